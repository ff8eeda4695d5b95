"""The web pages: resident chat, operator console, dashboard. Plain HTML, CSS and JS served
by the same FastAPI app; nothing is loaded from outside, so they work offline."""
