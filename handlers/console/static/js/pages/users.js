// Settings → Users: invite (create with a first password to hand over), change role,
// deactivate / reactivate. Owners and admins only; the API enforces who may touch whom.
import { html, useState, useEffect, useCallback } from "../ui.js";
import { request, listAll, ApiError, currentSession } from "../api.js";
import { when } from "../format.js";
import { TextField, SelectField, ErrorBanner, Notice, ConfirmButton } from "../widgets.js";

const SESSION = { scope: "session" };
const ROLES = [["member", "Member (leads only)"], ["admin", "Admin"], ["owner", "Owner"]];
const EMPTY = { email: "", name: "", role: "member", password: "" };

function Invite({ onDone }) {
  const [form, setForm] = useState(EMPTY);
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const set = (name) => (value) => setForm({ ...form, [name]: value });
  async function submit(event) {
    event.preventDefault();
    setErrors({});
    setError(null);
    try {
      const reply = await request("POST", "/users", { ...SESSION, body: form });
      setForm(EMPTY);
      onDone(`${reply.data.name} can now sign in with the password you chose; ask them to change it.`);
    } catch (exc) {
      if (exc instanceof ApiError) setErrors(exc.byField());
      setError(exc);
    }
  }
  return html`<form class="invite" onSubmit=${submit} novalidate aria-labelledby="invite-title">
    <h2 id="invite-title">Invite a user</h2>
    <${ErrorBanner} error=${error} />
    <div class="grid">
      <${TextField} label="User email" type="email" value=${form.email} onInput=${set("email")} error=${errors.email} />
      <${TextField} label="Full name" value=${form.name} onInput=${set("name")} error=${errors.name} />
      <${SelectField} label="Role" value=${form.role} onChange=${set("role")} error=${errors.role} options=${ROLES} />
      <${TextField} label="First password" type="password" value=${form.password} onInput=${set("password")}
        error=${errors.password} autocomplete="new-password" hint="At least 8 characters; share it safely" />
    </div>
    <button type="submit" class="primary">Invite</button>
  </form>`;
}

export function UsersPage() {
  const [users, setUsers] = useState([]);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState("");
  const me = currentSession();
  const load = useCallback(() => listAll("/users", {}, SESSION).then((all) => setUsers(all.items)).catch(setError), []);
  useEffect(() => { load(); }, [load]);

  async function update(user, body, message) {
    setError(null);
    try {
      await request("PATCH", `/users/${encodeURIComponent(user.id)}`, { ...SESSION, body });
      setNotice(message);
    } catch (exc) {
      setError(exc);
    }
    load();
  }

  return html`<h1>Settings → Users</h1>
    <${ErrorBanner} error=${error} />
    <${Notice} text=${notice} />
    <${Invite} onDone=${(message) => { setNotice(message); load(); }} />
    <h2>Users</h2>
    <div class="table-wrap"><table class="users">
      <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Active</th>
        <th scope="col">Since</th><th scope="col">Actions</th></tr></thead>
      <tbody>${users.map((user) => html`<tr key=${user.id} data-user-id=${user.id}>
        <td>${user.name}${me && user.id === me.userId ? " (you)" : ""}</td><td>${user.email}</td>
        <td><label class="visually-hidden" for=${`role-${user.id}`}>Role of ${user.name}</label>
          <select id=${`role-${user.id}`} value=${user.role}
            onChange=${(event) => update(user, { role: event.currentTarget.value }, `${user.name} is now ${event.currentTarget.value}.`)}>
            ${ROLES.map(([value, text]) => html`<option value=${value}>${text}</option>`)}
          </select></td>
        <td>${user.active ? "yes" : "no"}</td><td>${when(user.createdAt)}</td>
        <td>${user.active
          ? html`<${ConfirmButton} label=${`Deactivate ${user.name}`} confirmLabel="Yes, deactivate (signs them out)"
              onConfirm=${() => update(user, { active: false }, `${user.name} was deactivated.`)} />`
          : html`<button type="button" onClick=${() => update(user, { active: true }, `${user.name} was reactivated.`)}>Reactivate ${user.name}</button>`}</td>
      </tr>`)}</tbody>
    </table></div>`;
}
