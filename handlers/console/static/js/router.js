// Hash routes (#/leads, #/leads/<id>, ...): the static server needs one file, and a route never
// carries a credential. The current route survives a return to sign-in.
import { useState, useEffect } from "./ui.js";

export function parseRoute(hash = location.hash) {
  const [path, search = ""] = hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean);
  return { page: parts[0] || "leads", id: parts[1] || null, params: new URLSearchParams(search) };
}

export function navigate(path) {
  location.hash = path;
}

export function useRoute() {
  const [route, setRoute] = useState(parseRoute());
  useEffect(() => {
    const update = () => setRoute(parseRoute());
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}
