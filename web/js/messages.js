/* 问源 (wenyuan) chat page: the conversation log, and the messages in it other than answers. */

import { $, h } from "./dom.js";

const conversation = $("conversation");
const welcome = $("welcome");

export function scrollConversationTo(node) {
  // Keep the newest question near the top so its answer is readable
  // from the start rather than scrolled to its last source card.
  if (node && node.scrollIntoView) node.scrollIntoView({ block: "start" });
}

function scrollConversationToBottom() {
  conversation.scrollTop = conversation.scrollHeight;
}

function hideWelcome() {
  if (welcome && welcome.parentNode) welcome.remove();
}

/** Put a message at the end of the conversation. */
export function addMessage(node) {
  conversation.appendChild(node);
  return node;
}

export function addUserMessage(text) {
  hideWelcome();
  const bubble = h(
    "div",
    { className: "message message-user", testid: "message-user" },
    h("div", { className: "bubble bubble-user", text })
  );
  conversation.appendChild(bubble);
  return bubble;
}

export function addThinking() {
  const node = h(
    "div",
    {
      className: "message message-thinking",
      testid: "thinking",
      attrs: { role: "status" },
    },
    h(
      "div",
      { className: "bubble bubble-answer bubble-thinking" },
      h("span", { className: "spinner", attrs: { "aria-hidden": "true" } }),
      h("span", { text: "正在查找资料…" })
    )
  );
  conversation.appendChild(node);
  scrollConversationToBottom();
  return node;
}

/** The answer as it arrives, plain text; replaced by the full answer when it is complete. */
export function addStreaming() {
  const text = h("p", { className: "answer-text", testid: "streaming-text" });
  const node = h(
    "div",
    { className: "message message-streaming", testid: "message-streaming", attrs: { "aria-busy": "true" } },
    h("div", { className: "bubble bubble-answer is-streaming" }, text)
  );
  conversation.appendChild(node);
  return { node, text };
}

export function addError(message) {
  const node = h(
    "div",
    { className: "message message-error", testid: "error-message", attrs: { role: "alert" } },
    h(
      "div",
      { className: "bubble bubble-error" },
      h("strong", { className: "error-title", text: "出错了" }),
      h("p", { className: "error-text", text: message })
    )
  );
  conversation.appendChild(node);
  return node;
}
