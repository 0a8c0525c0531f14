/* 问源 (wenyuan) chat page: uploads: files chosen in the library panel, each a row that follows its write. */

import { ApiError, request } from "./api.js";
import { $, h } from "./dom.js";
import { uploaded } from "./library.js";
import { UPLOAD_TIMEOUT_MS, enqueue, jobText, sendWrite, setLibraryStatus, showProgress } from "./writes.js";

const uploadInput = $("upload-input");
const uploadButton = $("upload-button");
const uploadList = $("upload-list");

function seconds(ms) {
  return (Number(ms) / 1000).toFixed(1);
}

/** A file's upload as a write job (writes.js), shown as a row of the upload list. */
function uploadJob(file) {
  const name = file.name;
  const state = h("span", { className: "upload-state", testid: "upload-state", text: "等待上传" });
  const bar = h(
    "div",
    {
      className: "progress",
      testid: "upload-progress",
      hidden: true,
      attrs: { role: "progressbar", "aria-label": `正在索引 ${name}` },
    },
    h("span", { className: "progress-bar" })
  );
  const item = h(
    "li",
    { className: "upload-item is-queued", testid: "upload-item", attrs: { "data-name": name } },
    h("div", { className: "upload-head" }, h("span", { className: "upload-name", text: name }), state),
    bar
  );
  let timer = 0;
  const setState = (kind, text) => {
    item.className = `upload-item ${kind}`;
    state.textContent = text;
  };
  const stop = () => {
    clearInterval(timer);
    timer = 0;
    bar.hidden = true;
    bar.classList.remove("is-determinate");
  };
  return {
    item,
    start() {
      const began = performance.now();
      const tick = () => {
        state.textContent = `正在索引… ${Math.floor((performance.now() - began) / 1000)} 秒`;
      };
      setState("is-running", "");
      tick();
      bar.hidden = false;
      timer = setInterval(tick, 1000);
      setLibraryStatus(`正在上传并索引 ${name}…`);
    },
    execute(token) {
      const send = () =>
        request(
          `/api/documents/${encodeURIComponent(name)}`,
          {
            method: "PUT",
            headers: { "Content-Type": uploadType(name), Authorization: `Bearer ${token}` },
            body: file,
          },
          UPLOAD_TIMEOUT_MS
        );
      return sendWrite(send, {
        busy(secondsLeft, attempt) {
          setState("is-queued", `索引队列已满，${secondsLeft} 秒后重试（第 ${attempt} 次）`);
        },
        progress(job) {
          clearInterval(timer);
          timer = 0;
          showProgress(bar, job);
          setState("is-running", jobText(job));
        },
      });
    },
    succeed(data) {
      stop();
      uploaded.add(name);
      const text = `已索引：${data.chunks} 段，新嵌入 ${data.embedded} 段`;
      setState("is-done", text);
      if (Number.isFinite(Number(data.took_ms))) {
        state.appendChild(h("span", { className: "upload-took", text: ` · 用时 ${seconds(data.took_ms)} 秒` }));
      }
      setLibraryStatus(`${name} ${text}，现在可以提问了。`);
    },
    fail(err) {
      stop();
      setState("is-error", err.message);
      setLibraryStatus(`${name} 上传失败：${err.message}`);
    },
    wait() {
      stop();
      setState("is-queued", "等待访问令牌");
    },
    queue() {
      setState("is-queued", "等待上传");
    },
    cancel() {
      stop();
      setState("is-cancelled", "已取消");
    },
  };
}

/** The formats the corpus reads (qa.ingest.formats); .txt exactly as before, the others as the file's bytes. */
const UPLOAD_NAME = /(\.txt|\.(md|markdown|html?|docx|pdf))$/i;

function uploadType(name) {
  return /\.txt$/.test(name) ? "text/plain; charset=utf-8" : "application/octet-stream";
}

function addUploads(files) {
  // Finished rows of earlier batches make way for the new one.
  for (const row of Array.from(uploadList.children)) {
    if (!row.classList.contains("is-queued") && !row.classList.contains("is-running")) row.remove();
  }
  for (const file of files) {
    const job = uploadJob(file);
    uploadList.appendChild(job.item);
    if (!UPLOAD_NAME.test(file.name)) {
      job.fail(new ApiError("只能上传 .txt、.md、.html、.docx 或 .pdf 文件。", 0, "not_readable"));
      continue;
    }
    enqueue(job);
  }
}

/** The upload button opens the file chooser; the chosen files are queued. */
export function initUploads() {
  uploadButton.addEventListener("click", () => uploadInput.click());
  uploadInput.addEventListener("change", () => {
    const files = Array.from(uploadInput.files || []);
    uploadInput.value = "";
    if (files.length) addUploads(files);
  });
}
