/* 问源 (wenyuan) chat page: the composer: a question sent with the conversation so far, its answer shown. */

import { ApiError } from "./api.js";
import { addAnswer } from "./answer.js";
import { $ } from "./dom.js";
import { addError, addStreaming, addThinking, addUserMessage, scrollConversationTo } from "./messages.js";
import { currentSettings } from "./settings.js";
import { chatStream } from "./stream.js";

const form = $("composer");
const input = $("question-input");
const sendButton = $("send-button");

/** Successful exchanges only: [{role, content}], sent with every question. */
const history = [];
let pending = false;
let composing = false;

function setPending(value) {
  pending = value;
  sendButton.disabled = value;
  form.setAttribute("aria-busy", value ? "true" : "false");
}

async function send(text) {
  const question = String(text).trim();
  if (!question || pending) return;
  setPending(true);
  const userNode = addUserMessage(question);
  input.value = "";
  autosize();
  scrollConversationTo(userNode);
  const thinking = addThinking();
  let streaming = null;

  const { mode, k } = currentSettings();
  const messages = history.concat([{ role: "user", content: question }]);
  try {
    const data = await chatStream({ messages, k, mode }, (textSoFar) => {
      if (!streaming) {
        thinking.remove();
        streaming = addStreaming();
      }
      streaming.text.textContent = textSoFar;
    });
    thinking.remove();
    if (streaming) streaming.node.remove();
    addAnswer(data, question);
    history.push({ role: "user", content: question }, { role: "assistant", content: String(data.answer || "") });
  } catch (err) {
    thinking.remove();
    if (streaming) streaming.node.remove();
    addError(err instanceof ApiError ? err.message : "出现了意外错误，请刷新页面后再试。");
    if (!(err instanceof ApiError)) console.error(err);
  } finally {
    setPending(false);
    scrollConversationTo(userNode);
  }
}

function autosize() {
  input.style.height = "auto";
  const max = 180;
  input.style.height = Math.min(input.scrollHeight, max) + "px";
  input.style.overflowY = input.scrollHeight > max ? "auto" : "hidden";
}

/** The composer's keys and the example questions; the box sized to its text. */
export function initChat() {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(input.value);
  });

  // Enter sends, Shift+Enter is a newline, and Enter that confirms an input
  // method's candidate (pinyin composition) must not send.
  input.addEventListener("compositionstart", () => {
    composing = true;
  });
  input.addEventListener("compositionend", () => {
    composing = false;
  });
  input.addEventListener("blur", () => {
    composing = false;
  });
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    if (event.isComposing || event.keyCode === 229 || composing) return;
    if (event.shiftKey || event.altKey) return; // newline
    event.preventDefault();
    send(input.value);
  });

  input.addEventListener("input", autosize);

  for (const button of document.querySelectorAll(".example")) {
    button.addEventListener("click", () => {
      send(button.textContent);
    });
  }
  autosize();
}
