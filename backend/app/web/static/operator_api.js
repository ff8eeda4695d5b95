// Shared by the operator console and the dashboard: the admin key kept for this browser
// tab (sessionStorage), and fetch with it; a 401/403 sends the user back to the login form.
"use strict";

const KEY_STORE = "vasdom-operator-key";

const operatorApi = {
  key() { return sessionStorage.getItem(KEY_STORE); },
  remember(key) { sessionStorage.setItem(KEY_STORE, key); },
  forget() { sessionStorage.removeItem(KEY_STORE); },

  async call(path, options = {}) {
    const headers = Object.assign({ Authorization: `Bearer ${operatorApi.key()}` }, options.headers || {});
    if (options.body && !headers["Content-Type"]) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, Object.assign({}, options, { headers }));
    } catch (error) {
      throw new Error("Сервис сейчас недоступен. Проверьте соединение и попробуйте ещё раз.");
    }
    if (response.status === 401 || response.status === 403) {
      operatorApi.forget();
      const detail = await operatorApi.detail(response);
      const error = new Error(detail);
      error.unauthorized = true;
      throw error;
    }
    if (!response.ok) throw new Error(await operatorApi.detail(response));
    return response.status === 204 ? null : response.json();
  },

  async detail(response) {
    try {
      const body = await response.json();
      if (body && body.detail) return typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    } catch (error) { /* not JSON */ }
    return `Ошибка ${response.status}`;
  },

  // A link or an <audio> source carries no header: fetch with the key, keep it as a blob.
  async blob(path) {
    const response = await fetch(path, { headers: { Authorization: `Bearer ${operatorApi.key()}` } });
    if (!response.ok) throw new Error(await operatorApi.detail(response));
    return response.blob();
  },

  // A CSV download: the blob handed to the browser as a file.
  async download(path, filename) {
    const url = URL.createObjectURL(await operatorApi.blob(path));
    const link = document.createElement("a");
    link.href = url;
    link.download = filename;
    document.body.append(link);
    link.click();
    link.remove();
    URL.revokeObjectURL(url);
  },
};

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  Object.entries(attributes).forEach(([name, value]) => {
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  });
  children.forEach((child) => node.append(child));
  return node;
}

function showStatus(text) {
  const box = document.getElementById("status");
  box.textContent = text || "";
  box.classList.toggle("hidden", !text);
}

function loggedIn(yes) {
  document.getElementById("login").classList.toggle("hidden", yes);
  document.getElementById("console").classList.toggle("hidden", !yes);
}

// Run an API action; its error becomes the status line, and a rejected key the login form.
async function guarded(action) {
  try {
    showStatus("");
    return await action();
  } catch (error) {
    showStatus(error.message);
    if (error.unauthorized) loggedIn(false);
    return null;
  }
}

const LOGIN_FORM = `
  <label for="username">Имя оператора</label>
  <input type="text" id="username" autocomplete="username">
  <label for="password">Пароль</label>
  <input type="password" id="password" autocomplete="current-password">
  <p class="muted">…или ключ администратора (ADMIN_API_KEY):</p>
  <input type="password" id="key" aria-label="Ключ администратора" autocomplete="off">
  <p><button class="primary" type="submit">Войти</button></p>`;

// An account login returns a token used exactly like the admin key.
async function credentials() {
  const username = document.getElementById("username").value.trim();
  if (!username) return document.getElementById("key").value;
  let response;
  try {
    response = await fetch("/api/voice/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username, password: document.getElementById("password").value }),
    });
  } catch (error) {
    throw new Error("Сервис сейчас недоступен. Проверьте соединение и попробуйте ещё раз.");
  }
  if (!response.ok) throw new Error(await operatorApi.detail(response));
  return (await response.json()).token;
}

// The login form and the logout button of a page behind the operator key.
function setUpLogin(start) {
  const form = document.getElementById("login");
  form.innerHTML = LOGIN_FORM;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      operatorApi.remember(await credentials());
    } catch (error) {
      showStatus(error.message);
      return;
    }
    loggedIn(true);
    await start();
  });
  document.getElementById("logout").addEventListener("click", () => {
    fetch("/api/voice/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${operatorApi.key()}` } });
    operatorApi.forget();
    loggedIn(false);
  });
  if (operatorApi.key()) {
    loggedIn(true);
    start();
  } else {
    loggedIn(false);
  }
}
