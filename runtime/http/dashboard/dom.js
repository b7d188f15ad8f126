// Building DOM nodes. Every value becomes a text node (textContent), never HTML: nothing the
// API returns can add markup or script to the page.

/** An element `tag` with attributes `attrs` (`on<event>` keys become listeners) and children
 *  (strings and numbers become text nodes; null and undefined are skipped). */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "value") node.value = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

/** Appends children as `h` does. */
export function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Removes every child of `node`, then appends `children`. */
export function replace(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

/** A labelled form field: `<label for=id>` and the control. */
export function field(label, control) {
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control);
}

/** A table with a caption, header cells and rows (arrays of cells or `<tr>` nodes). */
export function table(caption, headers, rows, empty = "Nothing yet.") {
  if (rows.length === 0) return h("p", { class: "empty" }, empty);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, headers.map((name) => h("th", { scope: "col" }, name)))),
      h("tbody", {}, rows.map((row) => (row instanceof Node ? row : h("tr", {}, row.map((c) => h("td", {}, c)))))),
    ),
  );
}

/** A message area: `show(text, kind)` sets it, `kind` "error" or "ok". */
export function messages(id) {
  const node = h("p", { id, class: "message", role: "status", "aria-live": "polite" });
  node.show = (text, kind = "ok") => {
    node.className = `message ${kind}`;
    node.setAttribute("role", kind === "error" ? "alert" : "status");
    node.textContent = text;
  };
  node.clear = () => {
    node.textContent = "";
  };
  return node;
}

/** A time as a readable UTC date, e.g. "2026-12-07 01:40 UTC". */
export function date(rfc3339) {
  if (!rfc3339) return "";
  const d = new Date(rfc3339);
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

const relative = new Intl.RelativeTimeFormat("en", { numeric: "always" });

/** How far a time is from now: "in 3 days", "2 hours ago". */
export function fromNow(rfc3339, now = Date.now()) {
  const seconds = (new Date(rfc3339).getTime() - now) / 1000;
  const units = [
    ["year", 365 * 86400], ["month", 30 * 86400], ["day", 86400],
    ["hour", 3600], ["minute", 60], ["second", 1],
  ];
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size * 0.95 || unit === "second") {
      return relative.format(Math.round(seconds / size), unit);
    }
  }
  return "";
}

/** An expiry as the secrets table shows it: "expires in 3 days", "expired", or "never". */
export function expiry(meta) {
  if (!meta.expires_at) return "never";
  if (meta.expired) return `expired (${date(meta.expires_at)})`;
  return `${date(meta.expires_at)}, expires ${fromNow(meta.expires_at)}`;
}
