/* 问源 (wenyuan) chat page: a question sent to POST /api/chat, its answer read as it streams. */

import { ApiError, REQUEST_TIMEOUT_MS, fetchFailed, responseFailed } from "./api.js";

/**
 * POST /api/chat asking for server-sent events (Accept: text/event-stream):
 * `delta` events carry pieces of the answer as each is ready (a quoted line,
 * or a generated sentence once it has been checked against its sources);
 * `answer` carries the whole answer object. onText gets the text so far.
 */
export async function chatStream(body, onText) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  try {
    let response;
    try {
      response = await fetch("/api/chat", {
        method: "POST",
        signal: controller.signal,
        headers: { Accept: "text/event-stream", "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch (err) {
      throw fetchFailed(err);
    }
    if (!response.ok) {
      let data = null;
      try {
        data = await response.json();
      } catch (_) {
        data = null;
      }
      throw responseFailed(response, data);
    }
    let text = "";
    let final = null;
    const handle = (block) => {
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (!data.length) return;
      let payload;
      try {
        payload = JSON.parse(data.join("\n"));
      } catch (_) {
        throw new ApiError("服务器返回了无法识别的内容。", response.status, "bad_response");
      }
      if (name === "delta" && payload && typeof payload.text === "string") {
        text += payload.text;
        onText(text);
      } else if (name === "answer" && payload && typeof payload === "object") {
        final = payload;
      } else if (name === "error") {
        const error = (payload && payload.error) || {};
        throw new ApiError(String(error.message || "服务器出错，请稍后再试。"), error.status || 500, error.code || "error");
      }
    };
    const decoder = new TextDecoder();
    let buffer = "";
    const consume = (chunk, done) => {
      buffer += chunk.replace(/\r\n?/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        handle(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
      }
      if (done && buffer.trim()) handle(buffer);
    };
    try {
      if (response.body && response.body.getReader) {
        const reader = response.body.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          consume(decoder.decode(value, { stream: true }), false);
        }
        consume(decoder.decode(), true);
      } else {
        consume(await response.text(), true);
      }
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (err && err.name === "AbortError") throw new ApiError("服务器响应超时，请稍后再试。", 0, "timeout");
      throw new ApiError("连接中断，请稍后再试。", 0, "network");
    }
    if (!final) throw new ApiError("服务器返回了无法识别的内容。", response.status, "bad_response");
    return final;
  } finally {
    clearTimeout(timer);
  }
}
