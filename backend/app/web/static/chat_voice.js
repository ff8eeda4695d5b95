// Speaking to the bot from the chat page: the microphone button records a question (hold it
// while speaking, or tap to start and tap again to send), and answers are played back.
// chat.js owns the conversation; this file only records, explains refusals, and plays.
"use strict";

// Shorter than the server's MAX_AUDIO_SECONDS (30 by default): the recording stops itself.
const MAX_RECORDING_MS = 29000;
// Released sooner than this, the press was a tap: keep recording until the next tap.
const HOLD_MS = 400;
// What browsers record, in order of preference; Safari on iPhones records mp4/AAC.
const RECORDING_TYPES = [
  ["audio/webm;codecs=opus", "webm"], ["audio/webm", "webm"],
  ["audio/ogg;codecs=opus", "ogg"], ["audio/mp4", "m4a"],
];

const MIC_HINT = "Удерживайте и говорите, или нажмите, скажите вопрос и нажмите ещё раз";

// Why the microphone cannot be used, in words a resident can act on.
function microphoneRefusal(error) {
  if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return "Браузер не даёт микрофон этой странице: откройте её по https или напишите вопрос текстом.";
  }
  if (typeof MediaRecorder === "undefined") {
    return "Этот браузер не умеет записывать звук. Обновите его или напишите вопрос текстом.";
  }
  switch (error && error.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "Доступ к микрофону запрещён. Разрешите его в настройках сайта (значок слева от адреса) "
        + "и нажмите на микрофон ещё раз — или напишите вопрос текстом.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "Микрофон не найден. Подключите его или напишите вопрос текстом.";
    case "NotReadableError":
      return "Микрофон занят другим приложением (например, звонком). Освободите его и попробуйте ещё раз.";
    default:
      return "Не удалось включить микрофон. Попробуйте ещё раз или напишите вопрос текстом.";
  }
}

function recordingType() {
  return RECORDING_TYPES.find(([type]) => MediaRecorder.isTypeSupported(type)) || ["", "webm"];
}

// The microphone button: calls onRecorded(blob, filename) with each finished recording and
// onProblem(text) with anything the resident should read.
function setUpMicrophone(button, { onRecorded, onProblem }) {
  const mic = {
    recorder: null, stream: null, chunks: [], startedAt: 0, pressedAt: 0, holding: false, stopWanted: false, timer: null,
  };
  const icon = button.innerHTML;  // the microphone drawn in chat.html
  button.title = MIC_HINT;

  function show(recording) {
    button.classList.toggle("recording", recording);
    button.setAttribute("aria-pressed", String(recording));
    const speaking = mic.holding ? "● Говорите…" : "● Говорите… нажмите, чтобы отправить";
    if (recording) button.textContent = speaking;
    else button.innerHTML = icon;
    button.setAttribute("aria-label", recording ? "Остановить запись и отправить вопрос" : "Спросить голосом");
  }

  async function start() {
    onProblem("");
    mic.stopWanted = false;
    if (!window.isSecureContext || !navigator.mediaDevices || typeof MediaRecorder === "undefined") {
      onProblem(microphoneRefusal(null));
      return;
    }
    try {
      mic.stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
    } catch (error) {
      onProblem(microphoneRefusal(error));
      return;
    }
    const [type, extension] = recordingType();
    mic.recorder = new MediaRecorder(mic.stream, type ? { mimeType: type } : {});
    mic.chunks = [];
    mic.recorder.addEventListener("dataavailable", (event) => { if (event.data.size) mic.chunks.push(event.data); });
    mic.recorder.addEventListener("stop", () => finished(extension));
    mic.recorder.start();
    mic.startedAt = Date.now();
    mic.timer = setTimeout(stop, MAX_RECORDING_MS);
    show(true);
    if (mic.stopWanted) stop();  // released while the browser was still asking for the microphone
  }

  function stop() {
    if (!mic.recorder) { mic.stopWanted = true; return; }
    clearTimeout(mic.timer);
    if (mic.recorder.state !== "inactive") mic.recorder.stop();
  }

  function finished(extension) {
    mic.stream.getTracks().forEach((track) => track.stop());
    const blob = new Blob(mic.chunks, { type: mic.recorder.mimeType || "audio/webm" });
    const seconds = (Date.now() - mic.startedAt) / 1000;
    mic.recorder = null;
    mic.stream = null;
    show(false);
    if (seconds < 0.5 || !blob.size) {
      onProblem("Запись слишком короткая: удерживайте кнопку, пока говорите, или нажмите её ещё раз, когда закончите.");
      return;
    }
    onRecorded(blob, `question.${extension}`);
  }

  const recording = () => mic.recorder !== null;
  button.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    if (recording()) { stop(); return; }  // the second tap of tap-to-talk
    mic.pressedAt = Date.now();
    mic.holding = true;
    start();
  });
  const released = () => {
    if (!mic.holding) return;
    mic.holding = false;
    if (Date.now() - mic.pressedAt >= HOLD_MS) stop();  // push-to-talk: released, sent
    else if (recording()) show(true);  // tap-to-talk: recording until the next tap
  };
  button.addEventListener("pointerup", released);
  button.addEventListener("pointercancel", released);
  button.addEventListener("contextmenu", (event) => event.preventDefault());  // long press on phones
  button.addEventListener("click", (event) => {  // the keyboard: Enter or Space toggles
    if (event.detail !== 0) return;
    if (recording()) stop(); else start();
  });
}

// Plays answers: one player for the page, so a new answer stops the one before.
const answerPlayer = {
  audio: null,

  element() {
    if (!answerPlayer.audio) {
      answerPlayer.audio = document.createElement("audio");
      answerPlayer.audio.id = "answer-audio";
      answerPlayer.audio.className = "hidden";
      answerPlayer.audio.addEventListener("playing", () => { answerPlayer.audio.dataset.state = "playing"; });
      answerPlayer.audio.addEventListener("ended", () => { answerPlayer.audio.dataset.state = "ended"; });
      document.body.append(answerPlayer.audio);
    }
    return answerPlayer.audio;
  },

  async play(source, onProblem) {
    const audio = answerPlayer.element();
    if (audio.src.startsWith("blob:")) URL.revokeObjectURL(audio.src);
    audio.src = source;
    audio.dataset.state = "loading";
    try {
      await audio.play();
    } catch (error) {
      onProblem("Не удалось воспроизвести ответ: нажмите «Прослушать» под ним.");
    }
  },

  // speech_wav_base64 of a process answer.
  playInline(base64, onProblem) {
    const bytes = Uint8Array.from(atob(base64), (character) => character.charCodeAt(0));
    return answerPlayer.play(URL.createObjectURL(new Blob([bytes], { type: "audio/wav" })), onProblem);
  },
};
