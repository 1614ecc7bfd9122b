// Run by every page of the served app before Streamlit's frontend loads (bptt_app/server.py puts
// it into index.html). Plain JavaScript, no dependencies, nothing fetched.
(() => {
  const LOST_CODE = 4100; // bptt_app.server.LOST_SESSION_CODE
  const FLAG = "bptt-session-lost";

  // 1. Where the server is. Without this Streamlit's frontend, opened at /train, first tries
  //    /train as the server's base URL (two 404s in the console) before the root.
  window.__streamlit = Object.assign({}, window.__streamlit, {
    BACKEND_BASE_URL: window.location.origin + "/__BASE__",
  });

  // 2. A session the server no longer has (it restarted, another replica answered, or the tab
  //    was away longer than the server keeps a session): the server closes the reconnecting
  //    websocket with LOST_CODE, and the page reloads from its address, which holds the
  //    settings and the step. Without this the page would stay connected to a new, empty
  //    session, still showing the old one (its downloads doing nothing).
  const NativeWebSocket = window.WebSocket;
  class GuardedWebSocket extends NativeWebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      if (!String(url).endsWith("/_stcore/stream")) return;
      this.addEventListener("close", (event) => {
        if (event.code !== LOST_CODE) return;
        try {
          sessionStorage.setItem(FLAG, String(Date.now()));
        } catch (e) {
          // storage refused: reload without the notice
        }
        window.location.reload();
      });
    }
  }
  window.WebSocket = GuardedWebSocket;

  // 3. After such a reload, or after the student reloaded Train live (a reload is a new
  //    session; the network Train live trained is not in the address): say what was lost.
  //    Other pages lose nothing on a reload: their address holds the settings, the step and
  //    the number of updates, from which the step page rebuilds the network.
  let lostAt = null;
  try {
    lostAt = sessionStorage.getItem(FLAG);
    sessionStorage.removeItem(FLAG);
  } catch (e) {
    lostAt = null;
  }
  const navigation = (performance.getEntriesByType("navigation") || [])[0];
  const reloaded = navigation && navigation.type === "reload";
  const onTrainLive = /\/train\/?$/.test(window.location.pathname);
  let message = null;
  if (lostAt && Date.now() - Number(lostAt) < 60000) {
    message =
      "The connection to the server was lost, and this page's session with it (the server " +
      "restarted, or the page was away too long). The page was reloaded from its address: " +
      "the settings and the step are back. A network trained on Train live and not " +
      "downloaded is lost; train it again or load its saved parameters.";
  } else if (reloaded && onTrainLive) {
    message =
      "Reloading started a new session: the settings came back from the address, but the " +
      "network trained here before the reload did not (only downloaded parameters keep " +
      "it). Press Play to train again, or load the saved parameters below.";
  }
  if (message === null) return;

  function showNotice() {
    const box = document.createElement("div");
    box.setAttribute("role", "status");
    box.setAttribute("data-testid", "bpttSessionLost");
    box.style.cssText =
      "position:fixed;top:0.75rem;left:50%;transform:translateX(-50%);z-index:1000100;" +
      "max-width:min(44rem,calc(100vw - 2rem));padding:0.75rem 1rem;border-radius:0.5rem;" +
      "background:#FFF4D6;color:#2B2100;border:1px solid #8A6100;font:0.95rem/1.45 " +
      "'Source Sans Pro',system-ui,sans-serif;box-shadow:0 2px 8px rgba(0,0,0,0.25);" +
      "display:flex;gap:1rem;align-items:flex-start;";
    const text = document.createElement("div");
    text.textContent = message;
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = "Dismiss";
    close.style.cssText =
      "flex:none;background:#2B2100;color:#FFF4D6;border:0;border-radius:0.3rem;" +
      "padding:0.25rem 0.75rem;font:inherit;cursor:pointer;";
    close.addEventListener("click", () => box.remove());
    box.append(text, close);
    document.body.append(box);
  }
  if (document.body) showNotice();
  else document.addEventListener("DOMContentLoaded", showNotice);
})();
