/* 问源 (wenyuan) chat page: the source panel: a citation's document with the cited
 * paragraph and answer span marked, or a PDF citation on its page (pdf-view.js).
 */

import { api, ApiError } from "./api.js";
import { $, appendHighlighted, h } from "./dom.js";
import { addPanel, fitLayout, makeRoom } from "./panels.js";
import * as pdfView from "./pdf-view.js";

const panel = $("context-panel");
const panelTitle = $("context-title");
const panelMeta = $("context-meta");
const panelBody = $("context-body");
const panelClose = $("context-close");

/** Cache of GET /api/documents/{doc} promises, by document name. */
const documents = new Map();
/** Element that opened the context panel, to give focus back on close. */
let panelOpener = null;
/** Counter so a slow document load never overwrites a newer one. */
let panelRequest = 0;

/** A citation's place as short parts: publication, date, pages, paragraph, lines. */
export function citationMeta(citation) {
  const parts = [];
  if (!citation) return parts;
  if (citation.publication) parts.push(String(citation.publication));
  if (citation.date) parts.push(String(citation.date));
  if (citation.page_start) {
    parts.push(
      citation.page_end && citation.page_end !== citation.page_start
        ? `第 ${citation.page_start}–${citation.page_end} 页`
        : `第 ${citation.page_start} 页`
    );
  }
  if (citation.paragraph) parts.push(`第 ${citation.paragraph} 段`);
  if (citation.line_start) {
    parts.push(
      citation.line_end && citation.line_end !== citation.line_start
        ? `第 ${citation.line_start}–${citation.line_end} 行`
        : `第 ${citation.line_start} 行`
    );
  }
  return parts;
}

/** Forget cached documents (and opened PDFs): a write may have replaced or deleted one. */
export function forgetDocuments() {
  documents.clear();
  pdfView.forget();
}

function loadDocument(doc) {
  if (!documents.has(doc)) {
    const promise = api(`/api/documents/${encodeURIComponent(doc)}`, { method: "GET" });
    promise.catch(() => documents.delete(doc)); // retry next time
    documents.set(doc, promise);
  }
  return documents.get(doc);
}

/** Find the cited article and paragraph in a document response. */
function locate(documentData, citation) {
  const articles = Array.isArray(documentData.articles) ? documentData.articles : [];
  const start = Number(citation.start);
  // 1. Exact: the paragraph that starts where the citation starts.
  for (const article of articles) {
    for (const paragraph of article.paragraphs || []) {
      if (paragraph.start === start) return { article, paragraph };
    }
  }
  // 2. The paragraph whose span contains the citation's start.
  for (const article of articles) {
    for (const paragraph of article.paragraphs || []) {
      if (paragraph.start <= start && start < paragraph.end) return { article, paragraph };
    }
  }
  // 3. Same headline and paragraph number.
  for (const article of articles) {
    if (article.title === citation.title) {
      const paragraph = (article.paragraphs || []).find((p) => p.paragraph === citation.paragraph);
      return { article, paragraph: paragraph || null };
    }
  }
  return { article: articles[0] || null, paragraph: null };
}

/**
 * Code-point range of the hit's answer span inside the paragraph text, or
 * null (then only the paragraph as a whole is highlighted).  The offsets
 * apply as they are when the paragraph is the hit's text; otherwise the
 * hit's text, then the span itself, is looked up in the paragraph, last
 * ignoring whitespace (repaired line breaks may differ).
 */
function spanInParagraph(paragraphText, hit) {
  if (!hit || !Array.isArray(hit.highlight)) return null;
  const [s, e] = hit.highlight;
  if (!(e > s)) return null;
  if (paragraphText === hit.text) return hit.highlight;
  const cpIndex = (utf16Index) => Array.from(paragraphText.slice(0, utf16Index)).length;

  const whole = hit.text ? paragraphText.indexOf(hit.text) : -1;
  if (whole >= 0) {
    const offset = cpIndex(whole);
    return [offset + s, offset + e];
  }
  const span = highlightedText(hit);
  if (!span) return null;
  const index = paragraphText.indexOf(span);
  if (index >= 0) {
    const startCp = cpIndex(index);
    return [startCp, startCp + Array.from(span).length];
  }
  // Whitespace-insensitive: match on the non-space characters only.
  const chars = Array.from(paragraphText);
  const kept = [];
  chars.forEach((ch, i) => {
    if (!/\s/u.test(ch)) kept.push(i);
  });
  const squeezedText = kept.map((i) => chars[i]).join("");
  const squeezedSpan = Array.from(span).filter((ch) => !/\s/u.test(ch));
  if (!squeezedSpan.length) return null;
  const at = squeezedText.indexOf(squeezedSpan.join(""));
  if (at < 0) return null;
  const first = Array.from(squeezedText.slice(0, at)).length;
  return [kept[first], kept[first + squeezedSpan.length - 1] + 1];
}

/** The highlighted answer span of a hit, as a string ("" if none). */
function highlightedText(hit) {
  if (!hit || !Array.isArray(hit.highlight)) return "";
  const chars = Array.from(String(hit.text || ""));
  const [s, e] = hit.highlight;
  if (!(e > s)) return "";
  return chars.slice(Math.max(0, s), Math.min(chars.length, e)).join("");
}

function openPanel(opener) {
  makeRoom(panel);
  panelOpener = opener || null;
  panel.hidden = false;
  fitLayout();
}

function closePanel() {
  panelRequest += 1;
  panel.hidden = true;
  fitLayout();
  if (panelOpener && document.contains(panelOpener)) panelOpener.focus();
  panelOpener = null;
}

export async function openContext(citation, hit, opener) {
  if (!citation || !citation.doc) return;
  const request = ++panelRequest;
  openPanel(opener);
  panelTitle.textContent = citation.title || citation.doc;
  panelMeta.replaceChildren(
    h("span", { className: "card-doc", text: citation.doc }),
    ...citationMeta(citation).map((part) => h("span", { className: "card-meta-item", text: part }))
  );
  panelBody.replaceChildren(
    h(
      "p",
      { className: "context-loading", attrs: { role: "status" } },
      h("span", { className: "spinner", attrs: { "aria-hidden": "true" } }),
      "正在载入原文…"
    )
  );
  panel.focus({ preventScroll: true });

  let pageViewMissing = false;
  if (citation.format === "pdf") {
    const view = await pdfPages(citation, hit);
    if (request !== panelRequest) return;
    if (view) {
      panelBody.replaceChildren(view);
      panelBody.scrollTop = 0;
      const mark = view.querySelector(".pdf-mark");
      if (mark) requestAnimationFrame(() => mark.scrollIntoView({ block: "center" }));
      return;
    }
    pageViewMissing = true;
  }

  let documentData;
  try {
    documentData = await loadDocument(citation.doc);
  } catch (err) {
    if (request !== panelRequest) return;
    panelBody.replaceChildren(
      h(
        "div",
        { className: "context-error", attrs: { role: "alert" } },
        h("p", { text: err instanceof ApiError ? err.message : "无法载入原文。" }),
        hit ? h("p", { className: "context-fallback-label", text: "引用的段落：" }) : null,
        hit ? fallbackPassage(hit) : null
      )
    );
    return;
  }
  if (request !== panelRequest) return;

  const { article, paragraph: cited } = locate(documentData, citation);
  if (!article) {
    panelBody.replaceChildren(h("p", { className: "context-error", text: "原文中找不到这一段。" }));
    return;
  }
  panelTitle.textContent = article.title || citation.title || citation.doc;
  const meta = documentData.metadata || {};
  const extra = [];
  if (meta.publication && !citation.publication) extra.push(String(meta.publication));
  if (meta.date && !citation.date) extra.push(String(meta.date));
  for (const part of extra) panelMeta.appendChild(h("span", { className: "card-meta-item", text: part }));

  let citedNode = null;
  const list = h("div", { className: "context-article" });
  for (const paragraph of article.paragraphs || []) {
    const isCited = cited && paragraph === cited;
    const node = h("p", {
      className: "context-paragraph" + (isCited ? " is-cited" : ""),
      testid: isCited ? "context-highlight" : null,
      attrs: {
        "data-paragraph": paragraph.paragraph,
        "aria-current": isCited ? "true" : null,
        title: isCited ? "引用的段落" : null,
      },
    });
    node.appendChild(
      h("span", {
        className: "paragraph-number",
        text: String(paragraph.paragraph),
        attrs: { "aria-hidden": "true" },
      })
    );
    const body = h("span", { className: "paragraph-text" });
    if (isCited) {
      const text = String(paragraph.text || "");
      appendHighlighted(body, text, spanInParagraph(text, hit), { className: "context-mark" });
      citedNode = node;
    } else {
      body.textContent = String(paragraph.text || "");
    }
    node.appendChild(body);
    list.appendChild(node);
  }
  const note = pageViewMissing
    ? h("p", { className: "context-note", testid: "pdf-unavailable", text: "PDF 页面无法显示，以下是从中提取的文字。" })
    : null;
  panelBody.replaceChildren(...(note ? [note, list] : [list]));
  panelBody.scrollTop = 0;
  if (citedNode) {
    // Wait for layout (and the mobile overlay transition) before centring.
    requestAnimationFrame(() => citedNode.scrollIntoView({ block: "center" }));
  }
}

/**
 * A PDF citation on its page(s): the quoted lines marked over the passage's,
 * a link to the file, and the passage as text below (the canvas cannot be read
 * or copied). An answer's citation marks its own boxes (the quoted sentence); a
 * passage card its hit's answer span. null: no pdf.js, show the rendition.
 */
async function pdfPages(citation, hit) {
  const own = Boolean(hit && hit.citation === citation);
  const marks = own ? hit.highlight_boxes || citation.boxes : citation.boxes;
  const passage = hit && hit.citation ? hit.citation.boxes : null;
  const width = Math.max(240, panelBody.clientWidth - 44); // the body's side padding
  const pages = await pdfView.pages(citation.doc, marks, passage, citation.page_start, width);
  if (!pages) return null;
  const source = `/api/documents/${encodeURIComponent(citation.doc)}/source`;
  return h(
    "div",
    { className: "pdf-view" },
    pages,
    h("a", {
      className: "pdf-source-link",
      testid: "pdf-source-link",
      text: "打开 PDF 原文件",
      attrs: { href: source, target: "_blank", rel: "noopener" },
    }),
    hit ? h("p", { className: "context-fallback-label", text: "引用的段落：" }) : null,
    hit ? fallbackPassage(hit) : null
  );
}

function fallbackPassage(hit) {
  const node = h("p", { className: "context-paragraph is-cited", testid: "context-highlight" });
  appendHighlighted(node, hit.text, hit.highlight, { className: "context-mark" });
  return node;
}

/** The panel's close button, and its place among the side panels (Escape closes it). */
export function initSourcePanel() {
  panelClose.addEventListener("click", closePanel);
  addPanel(panel, closePanel);
}
