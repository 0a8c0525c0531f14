/* 问源 (wenyuan) chat page: the JSON API over fetch, and its error shape.
 *
 * The server answers errors as {"error": {"status", "code", "message"}};
 * every failure (network, timeout, HTTP status, unreadable body) becomes an
 * ApiError whose message can be shown to the user as it is.
 */

export const REQUEST_TIMEOUT_MS = 180000;

export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The ApiError of a fetch that got no answer: timed out (aborted) or no connection. */
export function fetchFailed(err) {
  if (err && err.name === "AbortError") return new ApiError("服务器响应超时，请稍后再试。", 0, "timeout");
  return new ApiError("无法连接服务器，请检查网络或稍后再试。", 0, "network");
}

/** The ApiError of an answer that is not ok: its error shape's message, else its HTTP status. */
export function responseFailed(response, data) {
  const error = data && data.error;
  if (error && typeof error.message === "string" && error.message) {
    return new ApiError(error.message, error.status || response.status, error.code || "error");
  }
  return new ApiError(`服务器出错（HTTP ${response.status}），请稍后再试。`, response.status, "http");
}

/** Fetch JSON; any failure becomes an ApiError whose message suits a user. */
export async function api(path, options, timeoutMs) {
  return (await request(path, options, timeoutMs)).data;
}

/** api() with the response too (a write's 202 carries its job's Location). */
export async function request(path, options, timeoutMs) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs || REQUEST_TIMEOUT_MS);
  let response;
  try {
    response = await fetch(path, {
      ...options,
      signal: controller.signal,
      headers: { Accept: "application/json", ...(options && options.headers) },
    });
  } catch (err) {
    clearTimeout(timer);
    throw fetchFailed(err);
  }
  let data = null;
  try {
    data = await response.json();
  } catch (_) {
    data = null;
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok) {
    const failure = responseFailed(response, data);
    failure.retryAfter = Number(response.headers.get("Retry-After")) || 0; // 503 index_busy says when to try again
    throw failure;
  }
  if (data === null || typeof data !== "object") {
    throw new ApiError("服务器返回了无法识别的内容。", response.status, "bad_response");
  }
  return { data, response };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `err` as an ApiError; anything else is a bug, logged, and shown as an unexpected error. */
export function unexpected(err) {
  if (err instanceof ApiError) return err;
  console.error(err);
  return new ApiError("出现了意外错误，请刷新页面后再试。", 0, "unexpected");
}
