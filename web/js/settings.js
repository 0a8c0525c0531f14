/* 问源 (wenyuan) chat page: the advanced settings (search mode, passages per answer), kept in localStorage. */

import { $ } from "./dom.js";

const MODES = ["hybrid", "dense", "bm25"];
const K_MIN = 1;
const K_MAX = 20;
const K_DEFAULT = 5;
const STORAGE_KEY = "wenyuan.settings";

const modeSelect = $("mode-select");
const kInput = $("k-input");

function clampK(value) {
  const n = Math.round(Number(value));
  if (!Number.isFinite(n)) return K_DEFAULT;
  return Math.max(K_MIN, Math.min(K_MAX, n));
}

/** The mode and k every question is sent with. */
export function currentSettings() {
  const mode = MODES.includes(modeSelect.value) ? modeSelect.value : "hybrid";
  return { mode, k: clampK(kInput.value) };
}

function loadSettings() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
    if (saved && MODES.includes(saved.mode)) modeSelect.value = saved.mode;
    if (saved && saved.k !== undefined) kInput.value = String(clampK(saved.k));
  } catch (_) {
    /* storage unavailable or corrupt: keep defaults */
  }
}

function saveSettings() {
  const settings = currentSettings();
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(settings));
  } catch (_) {
    /* private mode etc. */
  }
}

/** Saved settings shown; a change is saved (k first brought into its range). */
export function initSettings() {
  modeSelect.addEventListener("change", saveSettings);
  kInput.addEventListener("change", () => {
    kInput.value = String(clampK(kInput.value));
    saveSettings();
  });
  loadSettings();
}
