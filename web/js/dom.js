/* 问源 (wenyuan) chat page: making nodes.
 *
 * SECURITY: everything that comes from the user or from the corpus is put on
 * the page as text.  Every node is built with document.createElement and
 * filled through textContent / Text nodes; innerHTML is never used.
 */

/** The page's element of this id. */
export const $ = (id) => document.getElementById(id);

/**
 * Create an element.  `props` may hold className, testid, text, attrs
 * (plain attributes), and on* handlers.  Children are nodes or strings;
 * strings become Text nodes, so they are never parsed as HTML.
 */
export function h(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "className") node.className = value;
      else if (key === "testid") node.setAttribute("data-testid", value);
      else if (key === "text") node.textContent = String(value);
      else if (key === "attrs") {
        for (const [name, v] of Object.entries(value)) {
          if (v !== undefined && v !== null && v !== false) node.setAttribute(name, String(v));
        }
      } else if (key.startsWith("on") && typeof value === "function") {
        node.addEventListener(key.slice(2).toLowerCase(), value);
      } else node[key] = value;
    }
  }
  appendChildren(node, children);
  return node;
}

function appendChildren(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) appendChildren(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
}

/**
 * Append `text` to `parent` with the code-point range [start, end) wrapped
 * in a <mark>.  Offsets count Unicode code points (as the Python server
 * does), so the text is split with Array.from, never by UTF-16 index.
 * Returns the <mark>, or null when the range is empty or invalid.
 */
export function appendHighlighted(parent, text, range, markProps) {
  const chars = Array.from(String(text || ""));
  let start = -1;
  let end = -1;
  if (Array.isArray(range) && range.length === 2) {
    start = Math.max(0, Math.min(chars.length, Number(range[0]) | 0));
    end = Math.max(0, Math.min(chars.length, Number(range[1]) | 0));
  }
  if (!(end > start)) {
    parent.appendChild(document.createTextNode(chars.join("")));
    return null;
  }
  const before = chars.slice(0, start).join("");
  const inside = chars.slice(start, end).join("");
  const after = chars.slice(end).join("");
  if (before) parent.appendChild(document.createTextNode(before));
  const mark = h("mark", markProps || null, inside);
  parent.appendChild(mark);
  if (after) parent.appendChild(document.createTextNode(after));
  return mark;
}

