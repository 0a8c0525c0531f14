/* 问源 (wenyuan) chat page: the server's health (GET /api/health), and the banner shown while it cannot answer. */

import { api } from "./api.js";
import { $ } from "./dom.js";

const statusBanner = $("status-banner");

/** Last /api/health answer (its `writes` says whether uploads are possible), or null before the first. */
let current = null;

export function lastHealth() {
  return current;
}

export function setHealth(data) {
  current = data;
}

/** Ask the server again; the answer is kept. */
export async function fetchHealth() {
  current = await api("/api/health", { method: "GET" });
  return current;
}

export function writesEnabled() {
  return Boolean(current && current.writes === true);
}

/** Until the server answers (its index may still be loading), say so in the banner and ask again. */
export async function checkHealth(attempt) {
  try {
    await fetchHealth();
    statusBanner.hidden = true;
    statusBanner.textContent = "";
  } catch (err) {
    statusBanner.hidden = false;
    statusBanner.textContent =
      err.status === 503
        ? `资料库正在加载，请稍候…（${err.message}）`
        : `暂时无法连接服务器：${err.message}`;
    if (attempt < 90) setTimeout(() => checkHealth(attempt + 1), 2000);
  }
}
