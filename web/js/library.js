/* 问源 (wenyuan) chat page: the library (资料库) panel: the documents, their deletion, the corpus state. */

import { api, request, unexpected } from "./api.js";
import { $, h } from "./dom.js";
import { fetchHealth, lastHealth, setHealth, writesEnabled } from "./health.js";
import { addPanel, fitLayout, makeRoom } from "./panels.js";
import { UPLOAD_TIMEOUT_MS, enqueue, jobText, renderTokenState, sendWrite, setLibraryStatus } from "./writes.js";

const CORPUS_POLL_MS = 2000; // while the server catches up with its corpus folder
const FURNITURE_TITLES = new Set(["报头", "广告", "天气预报"]);

const libraryToggle = $("library-toggle");
const libraryPanel = $("library-panel");
const libraryClose = $("library-close");
const librarySummary = $("library-summary");
const libraryRefresh = $("library-refresh");
const uploadDisabled = $("upload-disabled");
const uploadArea = $("upload-area");
const documentList = $("document-list");
const corpusState = $("corpus-state");

/** Names uploaded from this page (uploads.js), badged in the list. */
export const uploaded = new Set();
let libraryRequest = 0;

/** A document's deletion as a write job (writes.js); `ui` is its row: a note, and reset() to show 删除 again. */
function deleteJob(name, title, ui) {
  return {
    start() {
      ui.note.textContent = "正在删除…";
      setLibraryStatus(`正在删除 ${name}…`);
    },
    execute(token) {
      const send = () =>
        request(`/api/documents/${encodeURIComponent(name)}`, {
          method: "DELETE",
          headers: { Authorization: `Bearer ${token}` },
        }, UPLOAD_TIMEOUT_MS);
      return sendWrite(send, {
        busy(secondsLeft) {
          ui.note.textContent = `索引队列已满，${secondsLeft} 秒后重试`;
        },
        progress(job) {
          ui.note.textContent = jobText(job);
        },
      });
    },
    succeed() {
      ui.note.textContent = "已删除";
      setLibraryStatus(`已删除“${title}”（${name}）。`);
    },
    fail(err) {
      ui.reset();
      ui.note.textContent = err.message;
      ui.note.classList.add("is-error");
      setLibraryStatus(`删除 ${name} 失败：${err.message}`);
    },
    wait() {
      ui.note.textContent = "等待访问令牌";
    },
    queue() {
      ui.note.textContent = "排队等待删除…";
    },
    cancel() {
      ui.reset();
    },
  };
}

/** The first headline that is not page furniture (masthead, ads, weather). */
function headline(doc) {
  const titles = Array.isArray(doc.titles) ? doc.titles.map((t) => String(t || "").trim()) : [];
  return titles.find((t) => t && !FURNITURE_TITLES.has(t)) || titles.find(Boolean) || String(doc.doc || "");
}

function documentItem(doc) {
  const name = String(doc.doc || "");
  const title = headline(doc);
  const meta = doc.metadata && typeof doc.metadata === "object" ? doc.metadata : {};
  const parts = [];
  if (meta.publication) parts.push(String(meta.publication));
  if (meta.date) parts.push(String(meta.date));
  parts.push(`${Number(doc.chunks) || 0} 段`);

  const item = h(
    "li",
    { className: "document-item", testid: "document-item", attrs: { "data-doc": name } },
    h(
      "div",
      { className: "document-main" },
      h("p", { className: "document-title", testid: "document-title", text: title }),
      h(
        "p",
        { className: "document-meta" },
        uploaded.has(name) ? h("span", { className: "document-badge", text: "新上传" }) : null,
        h("span", { className: "card-doc", text: name }),
        parts.map((part) => h("span", { className: "card-meta-item", text: part }))
      )
    )
  );
  if (!writesEnabled()) return item;

  const note = h("p", { className: "document-note", testid: "document-note" });
  const remove = h("button", {
    type: "button",
    className: "button button-quiet button-danger document-delete",
    testid: "document-delete",
    text: "删除",
    attrs: { "aria-label": `删除 ${title}` },
  });
  const confirmButton = h("button", {
    type: "button",
    className: "button button-danger",
    testid: "delete-confirm-button",
    text: "确认删除",
  });
  const cancelButton = h("button", { type: "button", className: "button", text: "取消" });
  const confirmBox = h(
    "div",
    {
      className: "document-confirm",
      testid: "delete-confirm",
      hidden: true,
      attrs: { role: "group", "aria-label": `确认删除 ${title}` },
    },
    h("p", { className: "document-confirm-text", text: `删除“${title}”？删除后不能再从这份资料回答问题。` }),
    h("div", { className: "document-confirm-actions" }, confirmButton, cancelButton)
  );
  const ui = {
    note,
    reset() {
      confirmBox.hidden = true;
      confirmButton.disabled = false;
      cancelButton.disabled = false;
      remove.hidden = false;
      note.textContent = "";
    },
  };
  remove.addEventListener("click", () => {
    note.textContent = "";
    note.classList.remove("is-error");
    remove.hidden = true;
    confirmBox.hidden = false;
    confirmBox.scrollIntoView({ block: "nearest" });
    cancelButton.focus();
  });
  cancelButton.addEventListener("click", () => {
    ui.reset();
    remove.focus();
  });
  confirmButton.addEventListener("click", () => {
    confirmButton.disabled = true;
    cancelButton.disabled = true;
    enqueue(deleteJob(name, title, ui));
  });
  item.appendChild(remove);
  item.appendChild(confirmBox);
  item.appendChild(note);
  return item;
}

function renderUploadState() {
  const known = lastHealth() !== null;
  uploadArea.hidden = !writesEnabled();
  uploadDisabled.hidden = !known || writesEnabled();
  renderTokenState();
}

const CORPUS_TEXT = {
  in_sync: () => "索引与资料文件夹一致",
  updating: (n) => `正在补建索引：文件夹中有 ${n} 份文档尚未索引（期间照常回答）`,
  out_of_sync: (n) => `索引落后于资料文件夹（${n} 份文档），详见服务器日志`,
};
let corpusTimer = 0;

/** The server's corpus state from /api/health; while it catches up, look again until it is in sync. */
function renderCorpusState() {
  const health = lastHealth();
  const corpus = health && health.corpus;
  corpusState.hidden = !corpus;
  if (!corpus) return;
  const text = CORPUS_TEXT[corpus.state] || CORPUS_TEXT.out_of_sync;
  corpusState.textContent = text(corpus.pending);
  corpusState.dataset.state = corpus.state;
  clearTimeout(corpusTimer);
  if (corpus.state === "updating" && !libraryPanel.hidden) {
    corpusTimer = setTimeout(async () => {
      try {
        await fetchHealth();
      } catch (_) {
        /* shown again at the next look */
      }
      const now = lastHealth();
      if (now && now.corpus && now.corpus.state !== "updating") refreshLibrary();
      else renderCorpusState();
    }, CORPUS_POLL_MS);
  }
}

function renderDocuments(list) {
  const docs = Array.isArray(list) ? list : [];
  const chunks = docs.reduce((sum, doc) => sum + (Number(doc.chunks) || 0), 0);
  librarySummary.replaceChildren(
    h("span", { className: "card-meta-item", text: `${docs.length} 份文档` }),
    h("span", { className: "card-meta-item", text: `共 ${chunks} 段` })
  );
  documentList.replaceChildren(
    ...(docs.length
      ? docs.map(documentItem)
      : [h("li", { className: "document-empty", text: "资料库是空的。" })])
  );
}

async function refreshLibrary() {
  const request = ++libraryRequest;
  libraryRefresh.disabled = true;
  libraryPanel.setAttribute("aria-busy", "true");
  if (!documentList.children.length) {
    documentList.replaceChildren(h("li", { className: "document-empty", text: "正在载入…" }));
  }
  try {
    const [healthData, listData] = await Promise.all([
      api("/api/health", { method: "GET" }),
      api("/api/documents", { method: "GET" }),
    ]);
    if (request !== libraryRequest) return;
    setHealth(healthData);
    renderUploadState();
    renderCorpusState();
    renderDocuments(listData.documents);
  } catch (err) {
    if (request !== libraryRequest) return;
    const error = unexpected(err);
    documentList.replaceChildren(
      h("li", { className: "document-empty is-error", text: `无法载入资料列表：${error.message}` })
    );
  } finally {
    if (request === libraryRequest) {
      libraryRefresh.disabled = false;
      libraryPanel.removeAttribute("aria-busy");
    }
  }
}

function openLibrary() {
  makeRoom(libraryPanel);
  libraryPanel.hidden = false;
  fitLayout();
  libraryToggle.setAttribute("aria-expanded", "true");
  libraryPanel.focus({ preventScroll: true });
  renderUploadState();
  refreshLibrary();
}

function closeLibrary(restoreFocus) {
  libraryPanel.hidden = true;
  libraryToggle.setAttribute("aria-expanded", "false");
  fitLayout();
  if (restoreFocus) libraryToggle.focus();
}

/** What follows every write: the list reloaded, the focus kept in the panel. */
export async function afterWrite() {
  await refreshLibrary();
  // A deleted row took the focus with it: keep it in the panel.
  if (!libraryPanel.hidden && document.activeElement === document.body) {
    libraryPanel.focus({ preventScroll: true });
  }
}

/** The panel's buttons, and its place among the side panels: Escape closes it and gives the toggle focus. */
export function initLibrary() {
  libraryToggle.addEventListener("click", () => {
    if (libraryPanel.hidden) openLibrary();
    else closeLibrary(true);
  });
  libraryClose.addEventListener("click", () => closeLibrary(true));
  libraryRefresh.addEventListener("click", () => refreshLibrary());
  addPanel(libraryPanel, (reason) => closeLibrary(reason !== "replaced"));
}
