// The playground: talk to the agent from this page. WebRTC first, the WebSocket when a call
// cannot be made; with an API key, the key mints an ephemeral client secret here and only that
// secret goes on the call. Server text goes in through textContent only.
import { Unauthorized, apiKey, getJSON } from "/static/api.js";
import { ServerRefused, WebRTCTransport, WebSocketTransport } from "/static/transports.js";

const $ = (id) => document.getElementById(id);

// What the page saw, for a person in the console and for the browser test.
const trace = { events: [], transport: null };
window.ovosPlayground = trace;

let transport = null;
let silenceMs = 500; // the session's server_vad silence window (from session.created/updated)
let speechEndedAt = null; // performance.now() at the estimated end of the user's speech
const lines = new Map(); // item_id → transcript line

function say(text, kind = "") {
  $("talk-state").textContent = text;
  $("talk-state").className = kind;
}

function option(value, label) {
  const node = document.createElement("option");
  node.value = value;
  node.textContent = label ?? value;
  return node;
}

// Voices and personas; a 401 means the page must ask for the key first.
async function loadChoices() {
  try {
    const models = await getJSON("/v1/models");
    $("persona").replaceChildren(...models.data.map((m) => option(m.id)));
  } catch (error) {
    if (error instanceof Unauthorized) {
      say("This server needs its API key: enter it above, then Talk.", "error");
      $("key-form").hidden = false;
    } else {
      say(`The server cannot be reached (${error.message}).`, "error");
    }
    return;
  }
  try {
    const voices = await getJSON("/v1/audio/voices");
    $("voice").replaceChildren(...voices.data.map((v) => option(v.id, v.name)));
    say("Ready: press Talk and speak.");
  } catch (error) {
    $("voice").replaceChildren(option("", "(none)"));
    say(`No voice here (${error.message}): this server may run text-only.`, "error");
  }
}

function sessionConfig() {
  const output = { speed: Number($("speed").value) };
  if ($("voice").value) output.voice = $("voice").value;
  return {
    type: "realtime",
    audio: {
      input: {
        turn_detection: { type: "server_vad", interrupt_response: $("barge-in").checked },
      },
      output,
    },
  };
}

// With a key: an ephemeral client secret minted by the server; the key stays in this page.
async function mintToken() {
  if (!apiKey()) return null;
  const response = await fetch("/v1/realtime/client_secrets", {
    method: "POST",
    headers: { Authorization: `Bearer ${apiKey()}`, "Content-Type": "application/json" },
    body: JSON.stringify({ session: { ...sessionConfig(), model: $("persona").value } }),
  });
  if (response.status === 401) throw new Unauthorized("the API key was refused");
  if (!response.ok) throw new ServerRefused(response.status, `HTTP ${response.status}`);
  return (await response.json()).value;
}

async function microphone() {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new Error(
      "This page cannot use a microphone here: open it on localhost, or over HTTPS.",
    );
  }
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
  } catch (error) {
    if (error.name === "NotAllowedError" || error.name === "SecurityError") {
      throw new Error(
        "The microphone was refused: allow it for this page in the browser, then Talk again.",
      );
    }
    throw new Error(`No microphone: ${error.message}`);
  }
}

async function talk() {
  $("talk").disabled = true;
  say("Connecting…");
  let mic = null;
  try {
    mic = await microphone();
    const token = await mintToken();
    const model = $("persona").value;
    const handlers = { mic, onEvent: receive, onClose: ended, bargeIn: () => $("barge-in").checked };
    const wanted = $("transport").value;
    const tryWebRTC = wanted !== "websocket" && Boolean(window.RTCPeerConnection);
    if (tryWebRTC) {
      transport = new WebRTCTransport({ ...handlers, speaker: $("speaker") });
      try {
        await transport.open({ token, model });
      } catch (error) {
        transport.close();
        transport = null;
        if (wanted === "webrtc" || error instanceof ServerRefused) throw error;
        console.warn("WebRTC call failed, using the WebSocket:", error);
      }
    }
    if (!transport) {
      transport = new WebSocketTransport(handlers);
      // A client secret is good for one session: the WebRTC try may have used it.
      await transport.open({ token: tryWebRTC ? await mintToken() : token, model });
    }
    trace.transport = transport;
    transport.send({ type: "session.update", session: sessionConfig() });
    say(`Listening (${transport.kind === "webrtc" ? "WebRTC" : "WebSocket"}): speak now.`, "live");
    $("talk").textContent = "Hang up";
    $("stop").disabled = false;
  } catch (error) {
    transport?.close();
    transport = null;
    mic?.getTracks().forEach((track) => track.stop());
    if (error instanceof Unauthorized || error.status === 401) {
      $("key-form").hidden = false;
      say("The API key is needed (or was refused): enter it above, then Talk.", "error");
    } else if (error instanceof TypeError) {
      say("The server cannot be reached: is `ovos-realtime serve` running?", "error");
    } else {
      say(error.message, "error");
    }
  } finally {
    $("talk").disabled = false;
  }
}

function hangUp() {
  transport?.close();
  transport?.mic.getTracks().forEach((track) => track.stop());
  transport = null;
  $("talk").textContent = "Talk";
  $("stop").disabled = true;
  say("Call ended.");
}

function ended(reason) {
  if (!transport) return;
  hangUp();
  say(`The call ended: ${reason}.`, "error");
}

function line(itemId, who) {
  let node = lines.get(itemId);
  if (!node) {
    node = document.createElement("p");
    node.className = who;
    node.append(document.createElement("b"), document.createElement("span"));
    node.firstChild.textContent = who === "user" ? "You: " : "Assistant: ";
    $("transcript").append(node);
    lines.set(itemId, node);
  }
  return node.lastChild;
}

// Latency of the turn: end of the user's speech (speech_stopped less the silence window the
// server waited) to the first audio of the answer (output_audio_buffer.started over WebRTC, the
// first audio delta on the WebSocket), both on this page's clock.
function firstAudio() {
  if (speechEndedAt === null) return;
  $("latency").textContent = `${Math.round(performance.now() - speechEndedAt)} ms`;
  speechEndedAt = null;
}

function receive(event) {
  trace.events.push(event.type);
  switch (event.type) {
    case "session.created":
    case "session.updated":
      silenceMs = event.session?.audio?.input?.turn_detection?.silence_duration_ms ?? silenceMs;
      break;
    case "input_audio_buffer.speech_started":
      say("Hearing you…", "live");
      break;
    case "input_audio_buffer.speech_stopped":
      speechEndedAt = performance.now() - silenceMs;
      break;
    case "conversation.item.input_audio_transcription.delta":
      line(event.item_id, "user").textContent += event.delta;
      break;
    case "conversation.item.input_audio_transcription.completed":
      line(event.item_id, "user").textContent = event.transcript;
      break;
    case "response.output_audio_transcript.delta":
    case "response.output_text.delta":
      line(event.item_id, "assistant").textContent += event.delta;
      break;
    case "output_audio_buffer.started":
    case "response.output_audio.delta":
      firstAudio();
      say("Speaking… (Stop cuts it short)", "live");
      break;
    case "output_audio_buffer.cleared":
      say("Stopped.", "live");
      break;
    case "response.done":
      if (event.response.status === "cancelled") say("Stopped.", "live");
      else say("Listening: speak now.", "live");
      break;
    case "error":
      say(`Server: ${event.error.message}`, "error");
      break;
  }
}

$("talk").addEventListener("click", () => (transport ? hangUp() : talk()));
$("stop").addEventListener("click", () => transport?.stopSpeaking());
$("speed").addEventListener("input", () => {
  $("speed-value").textContent = `${Number($("speed").value).toFixed(1)}×`;
});
for (const id of ["voice", "speed", "barge-in"]) {
  $(id).addEventListener("change", () => transport?.send({ type: "session.update", session: sessionConfig() }));
}
// The key form is home.js's; once a key is entered the choices can be read.
$("key-form").addEventListener("submit", () => setTimeout(loadChoices, 0));

loadChoices();
