// Import: upload a CSV (streamed as the request body, text/csv), then follow
// GET /v1/imports/{id} with a progress bar until it ends, and list its row errors.
import { html, useState, useEffect, useRef } from "../ui.js";
import { request, ApiError } from "../api.js";
import { SelectField, ErrorBanner, uid } from "../widgets.js";

const FOLLOW_MS = 1000;
const DONE = new Set(["completed", "failed"]);

function Progress({ job }) {
  const percent = job.progress.percent;
  return html`<section class="import-status" aria-labelledby="import-title">
    <h2 id="import-title">Import ${job.id}: ${job.status}</h2>
    <label for="import-progress">Progress</label>
    <progress id="import-progress" max="100" value=${percent} aria-valuetext=${`${percent}%`}>${percent}%</progress>
    <p role="status" aria-live="polite">${percent}% · ${job.progress.rowsProcessed} rows read · ${job.counts.created} created · ${job.counts.updated} updated · ${job.counts.failed} failed</p>
    ${job.message ? html`<p class="banner error">${job.message}</p>` : null}
    ${DONE.has(job.status) && job.errors.length ? html`<h3>Row errors (${job.errorCount}${job.errorsTruncated ? ", first 1,000 shown" : ""})</h3>
      <div class="table-wrap"><table class="row-errors">
        <thead><tr><th scope="col">Row</th><th scope="col">Field</th><th scope="col">Problem</th></tr></thead>
        <tbody>${job.errors.map((row, index) => html`<tr key=${index}><td>${row.row}</td><td>${row.field}</td><td>${row.message}</td></tr>`)}</tbody>
      </table></div>` : null}
    ${DONE.has(job.status) && !job.errors.length ? html`<p>No row errors.</p>` : null}
  </section>`;
}

export function ImportPage() {
  const [file, setFile] = useState(null);
  const [onDuplicate, setOnDuplicate] = useState("update");
  const [job, setJob] = useState(null);
  const [error, setError] = useState(null);
  const [fieldErrors, setFieldErrors] = useState([]);
  const [busy, setBusy] = useState(false);
  const [fileId] = useState(() => uid("f"));
  const timer = useRef(null);

  useEffect(() => () => clearTimeout(timer.current), []);

  function follow(id) {
    timer.current = setTimeout(async () => {
      try {
        const reply = await request("GET", `/imports/${encodeURIComponent(id)}`);
        setJob(reply.data);
        if (!DONE.has(reply.data.status)) follow(id);
      } catch (exc) {
        setError(exc);
      }
    }, FOLLOW_MS);
  }

  async function upload(event) {
    event.preventDefault();
    setError(null);
    setFieldErrors([]);
    if (!file) {
      setError("Choose a CSV file first.");
      return;
    }
    setBusy(true);
    try {
      const reply = await request("POST", "/leads/import", { query: { onDuplicate }, body: file, contentType: "text/csv" });
      setJob(reply.data);
      follow(reply.data.id);
    } catch (exc) {
      if (exc instanceof ApiError) setFieldErrors(exc.fieldErrors);
      setError(exc);
    } finally {
      setBusy(false);
    }
  }

  return html`<h1>Import leads</h1>
    <p>A UTF-8 CSV whose first row names the columns: <code>email</code>, <code>firstName</code>, <code>lastName</code>${" "}
      (required), any other lead field, and <code>${"customFields.<name>"}</code> columns. Tags are separated by <code>;</code>.</p>
    <form class="import-form" onSubmit=${upload}>
      <div class="field">
        <label for=${fileId}>CSV file</label>
        <input id=${fileId} type="file" accept=".csv,text/csv" onChange=${(event) => setFile(event.currentTarget.files[0] || null)} />
      </div>
      <${SelectField} label="When the email already exists" value=${onDuplicate} onChange=${setOnDuplicate}
        options=${[["update", "Update the existing lead"], ["allow", "Create another lead"], ["reject", "Report the row as an error"]]} />
      <button type="submit" class="primary" disabled=${busy}>Upload and import</button>
    </form>
    <${ErrorBanner} error=${error} />
    ${fieldErrors.length ? html`<ul class="error-list">${fieldErrors.map((item, index) => html`<li key=${index}>${item.field}: ${item.message}</li>`)}</ul>` : null}
    ${job ? html`<${Progress} job=${job} />` : null}`;
}
