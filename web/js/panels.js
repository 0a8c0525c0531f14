/* 问源 (wenyuan) chat page: the side panels (a citation's source, the library).
 *
 * They share the column beside the chat: one shows at a time, the layout makes
 * room while one does, and Escape closes it. Each panel registers how it closes.
 */

import { $ } from "./dom.js";

const layout = $("layout");
/** [{element, close(reason)}] in the order they were added; reason is "replaced" or "escape". */
const panels = [];

export function addPanel(element, close) {
  panels.push({ element, close });
}

/** Close whichever other panel shows, before `element` opens. */
export function makeRoom(element) {
  for (const panel of panels) {
    if (panel.element !== element && !panel.element.hidden) panel.close("replaced");
  }
}

/** The layout leaves room for a panel while one shows. */
export function fitLayout() {
  const shown = panels.some((panel) => !panel.element.hidden);
  layout.classList.toggle("has-panel", shown);
  document.body.classList.toggle("panel-open", shown);
}

export function initPanels() {
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const shown = panels.find((panel) => !panel.element.hidden);
    if (!shown) return;
    event.preventDefault();
    shown.close("escape");
  });
}
