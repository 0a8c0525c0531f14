/* 问源 (wenyuan) chat page: writes to the library (uploads, deletes) and the access token they need.
 *
 * Writes wait in one queue and run one at a time, in order, so this tab never
 * competes with itself for the server's single writer. A job (uploads.js,
 * library.js): {start(), execute(token) -> Promise, succeed(data), fail(err),
 * wait() for the token, queue() behind another write, cancel()}.
 */

import { ApiError, api, sleep, unexpected } from "./api.js";
import { $ } from "./dom.js";
import { forgetDocuments } from "./source-panel.js";

export const UPLOAD_TIMEOUT_MS = 1800000; // indexing a 5 MB file embeds thousands of passages
const JOB_POLL_MS = 1000; // a write answered 202 Accepted is followed at its job URL this often
const BUSY_RETRIES = 5; // 503 index_busy: wait Retry-After seconds and send again, this many times
const TOKEN_KEY = "wenyuan.token"; // sessionStorage only: the token lives as long as the tab

const libraryPanel = $("library-panel");
const libraryStatus = $("library-status");
const uploadButton = $("upload-button");
const tokenForm = $("token-form");
const tokenInput = $("token-input");
const tokenError = $("token-error");
const tokenCancel = $("token-cancel");
const tokenForget = $("token-forget");

/** Jobs not yet done, the running one first. */
const writeQueue = [];
let writing = false;
/** Fallback when sessionStorage is unavailable; still forgotten with the tab. */
let memoryToken = "";
/** What follows every write, done or failed (set by initWrites): the library list reloaded. */
let afterEach = async () => {};

export function loadToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  } catch (_) {
    return memoryToken;
  }
}

function saveToken(token) {
  memoryToken = token;
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch (_) {
    /* memoryToken keeps it */
  }
  tokenForget.hidden = false;
}

function forgetToken() {
  memoryToken = "";
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch (_) {
    /* nothing stored */
  }
  tokenForget.hidden = true;
}

/** The library panel's status line, which tells how the writes go. */
export function setLibraryStatus(text) {
  libraryStatus.textContent = text;
}

function askToken(message) {
  if (tokenForm.hidden) tokenInput.value = "";
  tokenError.hidden = !message;
  tokenError.textContent = message || "";
  tokenForm.hidden = false;
  if (!libraryPanel.hidden) tokenInput.focus();
}

/** 忘记令牌 shows while a token is kept. */
export function renderTokenState() {
  tokenForget.hidden = !loadToken();
}

async function runWrites() {
  if (writing) return;
  writing = true;
  try {
    while (writeQueue.length) {
      const token = loadToken();
      if (!token) {
        for (const job of writeQueue) job.wait();
        askToken("");
        return;
      }
      const [job, ...later] = writeQueue;
      for (const next of later) next.queue();
      job.start();
      try {
        const data = await job.execute(token);
        writeQueue.shift();
        forgetDocuments(); // cached passages may belong to a replaced document
        job.succeed(data);
      } catch (err) {
        const error = unexpected(err);
        if (error.status === 401) {
          forgetToken();
          for (const waiting of writeQueue) waiting.wait();
          askToken(`访问令牌不正确，请重新输入（${error.message}）`);
          return;
        }
        writeQueue.shift();
        job.fail(error);
      }
      await afterEach();
    }
  } finally {
    writing = false;
  }
}

/**
 * Send a write and see it through: a 202 Accepted is followed at its job URL
 * (GET /api/jobs/{id}) until done, showing the server's progress; a 503
 * index_busy is sent again after its Retry-After, a few times.
 */
export async function sendWrite(send, ui) {
  for (let attempt = 1; ; attempt++) {
    try {
      const { data, response } = await send();
      if (response.status !== 202) return data;
      return await followJob(response.headers.get("Location") || `/api/jobs/${data.id}`, data, ui);
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== "index_busy" || attempt > BUSY_RETRIES) throw err;
      const wait = Math.min(60, Math.max(1, err.retryAfter || 5));
      for (let left = wait; left > 0; left--) {
        ui.busy(left, attempt);
        await sleep(1000);
      }
    }
  }
}

async function followJob(location, job, ui) {
  for (;;) {
    ui.progress(job);
    if (job.state === "done") return job.result;
    if (job.state === "failed" || job.state === "cancelled") {
      const error = job.error || { message: "服务器取消了这次写入。", status: 0, code: "cancelled" };
      throw new ApiError(error.message, error.status, error.code);
    }
    await sleep(JOB_POLL_MS);
    job = await api(location, { method: "GET" });
  }
}

/** The server's progress of a job as the row's bar: determinate once embedding starts. */
export function showProgress(bar, job) {
  const fraction = Number(job.progress && job.progress.fraction) || 0;
  bar.hidden = false;
  bar.classList.toggle("is-determinate", job.state === "running" && fraction > 0);
  bar.setAttribute("aria-valuemin", "0");
  bar.setAttribute("aria-valuemax", "100");
  bar.setAttribute("aria-valuenow", String(Math.round(fraction * 100)));
  bar.firstChild.style.width = bar.classList.contains("is-determinate") ? `${Math.round(fraction * 100)}%` : "";
}

const STAGE_TEXT = {
  reading: "读取资料",
  passages: "嵌入段落",
  sentences: "嵌入句子",
  committing: "写入索引",
};

export function jobText(job) {
  if (job.state === "queued") return `排队中：前面还有 ${Math.max(0, job.position - 1)} 个写入`;
  const progress = job.progress || {};
  const stage = STAGE_TEXT[progress.stage] || "正在索引";
  const count = progress.total ? ` ${progress.done}/${progress.total}` : "";
  const rate = Number(progress.texts_per_s) > 0 ? ` · ${Number(progress.texts_per_s).toFixed(1)} 条/秒` : "";
  const eta = progress.eta_s != null ? ` · 约剩 ${etaText(Number(progress.eta_s))}` : "";
  const retries = Number(progress.retries) > 0 ? ` · 重试 ${progress.retries} 次` : "";
  return `正在索引：${stage}${count} · ${Math.round((Number(progress.fraction) || 0) * 100)}%${rate}${eta}${retries} · ${Math.floor(job.elapsed_s || 0)} 秒`;
}

/** The stage's time left as the CLI shows it: 1时02分, 3分05秒, 12秒. */
function etaText(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h) return `${h}时${String(m).padStart(2, "0")}分`;
  return m ? `${m}分${String(s % 60).padStart(2, "0")}秒` : `${s % 60}秒`;
}

export function enqueue(job) {
  writeQueue.push(job);
  runWrites();
}

/** The token form's buttons; `afterEach` runs after every write (done or failed). */
export function initWrites(options) {
  afterEach = options.afterEach;
  tokenForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = tokenInput.value.trim();
    if (!token) {
      tokenInput.focus();
      return;
    }
    saveToken(token);
    tokenInput.value = "";
    tokenError.hidden = true;
    tokenForm.hidden = true;
    uploadButton.focus();
    runWrites();
  });

  tokenCancel.addEventListener("click", () => {
    tokenForm.hidden = true;
    tokenInput.value = "";
    for (const job of writeQueue.splice(0)) job.cancel();
    setLibraryStatus("已取消。");
    uploadButton.focus();
  });

  tokenForget.addEventListener("click", () => {
    forgetToken();
    setLibraryStatus("已忘记访问令牌；下次上传或删除时会再次询问。");
    uploadButton.focus();
  });
}
