/* 问源 (wenyuan) chat page: its parts started in order.
 *
 * Plain browser JavaScript in native ES modules: no build step and no
 * dependencies; index.html loads this one module and the browser fetches what
 * it imports. Each module keeps its own state and exports what the others use:
 *
 *   dom.js           making nodes (as text, never HTML)
 *   api.js           fetch of the JSON API; its error shape as ApiError
 *   stream.js        POST /api/chat read as server-sent events
 *   settings.js      search mode and passage count, kept in localStorage
 *   messages.js      the conversation log: questions, waiting, errors
 *   answer.js        an answer with its [n] markers and source cards
 *   chat.js          the composer: sending a question, the history
 *   panels.js        the side panels: one at a time, Escape closes
 *   source-panel.js  a citation's document, the cited paragraph marked
 *   pdf-view.js      a PDF citation on its page, through pdf.js
 *   health.js        GET /api/health and the status banner
 *   writes.js        the write queue (uploads, deletes) and the access token
 *   uploads.js       files chosen for upload, a row each
 *   library.js       the library panel: documents, deletion, corpus state
 */

import { initChat } from "./chat.js";
import { checkHealth } from "./health.js";
import { afterWrite, initLibrary } from "./library.js";
import { initPanels } from "./panels.js";
import { initSettings } from "./settings.js";
import { initSourcePanel } from "./source-panel.js";
import { initUploads } from "./uploads.js";
import { initWrites } from "./writes.js";

initSettings();
initChat();
initSourcePanel(); // before the library: Escape closes a source first
initLibrary();
initPanels();
initWrites({ afterEach: afterWrite });
initUploads();
checkHealth(0);
