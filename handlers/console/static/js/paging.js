// Cursor paging, the one way every list page pages: a stack of the cursors of the pages seen so
// far (Previous pops it, Next pushes the page's nextCursor), the current page of
// `fetchPage(cursor)` and its error. `deps` are what `fetchPage` reads besides the cursor.
import { html, useState, useEffect, useCallback } from "./ui.js";
import { Pager } from "./widgets.js";

export function useCursorPages(fetchPage, deps) {
  const [cursors, setCursors] = useState([undefined]);
  const [page, setPage] = useState({ items: [], hasMore: false, next: null, loaded: false });
  const [error, setError] = useState(null);
  const cursor = cursors[cursors.length - 1];

  const load = useCallback(async () => {
    try {
      const reply = await fetchPage(cursor);
      const { hasMore, nextCursor } = reply.meta.pagination;
      setPage({ items: reply.data, hasMore, next: nextCursor, loaded: true });
      setError(null);
    } catch (exc) {
      setError(exc);
    }
  }, [...deps, cursor]);
  useEffect(() => { load(); }, [load]);

  return {
    page,
    error,
    setError,
    load,
    onFirstPage: cursors.length === 1,
    restart: () => setCursors([undefined]),
    pager: html`<${Pager} hasPrevious=${cursors.length > 1} hasMore=${page.hasMore}
      onPrevious=${() => setCursors(cursors.slice(0, -1))}
      onNext=${() => setCursors([...cursors, page.next])} />`,
  };
}
