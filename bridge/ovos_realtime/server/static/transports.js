// Two ways from this page to a Realtime session. A WebRTC call: the microphone and the voice go
// over RTP, the events over the `oai-events` data channel. The WebSocket: the microphone is sent
// as pcm16 base64 in `input_audio_buffer.append`, the voice comes back in
// `response.output_audio.delta` and is played here with Web Audio. Both carry a token (the API
// key's ephemeral client secret) only when the server needs one.

const RATE = 24000; // the session's pcm16 rate on the WebSocket

export class ServerRefused extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function errorMessage(response) {
  try {
    return (await response.json()).error.message;
  } catch {
    return `HTTP ${response.status}`;
  }
}

// Resolves once ICE gathering is complete (or after `ms`): the offer then lists our candidates.
function gathered(pc, ms = 2000) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState === "complete") resolve();
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, ms);
  });
}

export class WebRTCTransport {
  kind = "webrtc";

  constructor({ mic, speaker, onEvent, onClose }) {
    this.mic = mic;
    this.speaker = speaker; // an <audio> element
    this.onEvent = onEvent;
    this.onClose = onClose;
    this.pc = null;
    this.channel = null;
    this.callId = null;
  }

  // POSTs the offer; resolves when the data channel is open, rejects when the server refuses
  // (ServerRefused) or the media never connects (Error: the page falls back to the WebSocket).
  async open({ token, model }) {
    const pc = new RTCPeerConnection({ iceServers: [] });
    this.pc = pc;
    for (const track of this.mic.getAudioTracks()) pc.addTrack(track, this.mic);
    pc.addEventListener("track", (event) => {
      this.speaker.srcObject = event.streams[0] ?? new MediaStream([event.track]);
      this.speaker.play().catch(() => {}); // autoplay is allowed: Talk was a click
    });
    const channel = pc.createDataChannel("oai-events");
    this.channel = channel;
    channel.addEventListener("message", (message) => this.onEvent(JSON.parse(message.data)));
    pc.addEventListener("connectionstatechange", () => {
      if (["failed", "closed"].includes(pc.connectionState)) this.onClose(pc.connectionState);
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const headers = { "Content-Type": "application/sdp" };
    if (token) headers.Authorization = `Bearer ${token}`;
    const query = model ? `?model=${encodeURIComponent(model)}` : "";
    const response = await fetch(`/v1/realtime/calls${query}`, {
      method: "POST",
      body: pc.localDescription.sdp,
      headers,
    });
    if (response.status !== 201) {
      throw new ServerRefused(response.status, await errorMessage(response));
    }
    this.callId = (response.headers.get("Location") || "").split("/").pop();
    await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the call did not connect in 10 s")), 10000);
      channel.addEventListener("open", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  send(event) {
    if (this.channel?.readyState === "open") this.channel.send(JSON.stringify(event));
  }

  // Stop: the server stops the answer and drops what it has not yet played to us.
  stopSpeaking() {
    this.send({ type: "response.cancel" });
    this.send({ type: "output_audio_buffer.clear" });
  }

  close() {
    this.channel?.close();
    this.pc?.close();
    this.speaker.srcObject = null;
  }
}

function pcm16Base64(samples) {
  const bytes = new Uint8Array(samples.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function floatsFromBase64(data) {
  const text = atob(data);
  const view = new DataView(new ArrayBuffer(text.length));
  for (let i = 0; i < text.length; i++) view.setUint8(i, text.charCodeAt(i));
  const out = new Float32Array(Math.floor(text.length / 2));
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true) / 0x8000;
  return out;
}

export class WebSocketTransport {
  kind = "websocket";

  constructor({ mic, onEvent, onClose, bargeIn }) {
    this.mic = mic;
    this.onEvent = onEvent;
    this.onClose = onClose;
    this.bargeIn = bargeIn; // () => boolean: the page's barge-in switch
    this.ws = null;
    this.context = null;
    this.playhead = 0;
    this.playing = new Set(); // scheduled AudioBufferSourceNodes
    this.response = null; // the response being answered
    this.silenced = null; // a response stopped here: its late audio deltas are not played
    this.audioBytes = 0; // pcm16 bytes of voice received, for the page's counters
  }

  async open({ token, model }) {
    // 24 kHz both ways: the browser resamples the microphone and the voice for us.
    this.context = new AudioContext({ sampleRate: RATE });
    await this.context.resume();
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const query = model ? `?model=${encodeURIComponent(model)}` : "";
    // Browsers cannot set headers on a WebSocket: the token goes as a subprotocol, as OpenAI's.
    const protocols = ["realtime"];
    if (token) protocols.push(`openai-insecure-api-key.${token}`);
    const ws = new WebSocket(`${scheme}://${location.host}/v1/realtime${query}`, protocols);
    this.ws = ws;
    await new Promise((resolve, reject) => {
      ws.addEventListener("open", resolve, { once: true });
      ws.addEventListener("error", () => reject(new Error("the WebSocket did not open")), {
        once: true,
      });
    });
    ws.addEventListener("message", (message) => this.receive(JSON.parse(message.data)));
    ws.addEventListener("close", (event) => this.onClose(`WebSocket closed (${event.code})`));
    await this.startMic();
  }

  async startMic() {
    const source = this.context.createMediaStreamSource(this.mic);
    const send = (samples) =>
      this.send({ type: "input_audio_buffer.append", audio: pcm16Base64(samples) });
    if (this.context.audioWorklet) {
      await this.context.audioWorklet.addModule("/static/mic-worklet.js");
      const node = new AudioWorkletNode(this.context, "mic-capture");
      node.port.onmessage = (message) => send(message.data);
      source.connect(node);
    } else {
      // Older browsers: the deprecated ScriptProcessor, connected through a muted gain.
      const node = this.context.createScriptProcessor(4096, 1, 1);
      node.onaudioprocess = (event) => send(event.inputBuffer.getChannelData(0).slice());
      const mute = this.context.createGain();
      mute.gain.value = 0;
      source.connect(node).connect(mute).connect(this.context.destination);
    }
  }

  receive(event) {
    if (event.type === "response.created") {
      this.response = event.response.id;
    } else if (event.type === "response.output_audio.delta") {
      this.audioBytes += event.delta.length * 0.75;
      if (event.response_id !== this.silenced) this.play(floatsFromBase64(event.delta));
    } else if (event.type === "input_audio_buffer.speech_started" && this.bargeIn()) {
      this.silence(); // the server interrupts the answer (barge-in): stop hearing it here too
    }
    this.onEvent(event);
  }

  play(samples) {
    if (!samples.length) return;
    const buffer = this.context.createBuffer(1, samples.length, RATE);
    buffer.copyToChannel(samples, 0);
    const node = this.context.createBufferSource();
    node.buffer = buffer;
    node.connect(this.context.destination);
    this.playhead = Math.max(this.playhead, this.context.currentTime + 0.05);
    node.start(this.playhead);
    this.playhead += buffer.duration;
    this.playing.add(node);
    node.addEventListener("ended", () => this.playing.delete(node));
  }

  silence() {
    this.silenced = this.response;
    for (const node of this.playing) node.stop();
    this.playing.clear();
    this.playhead = 0;
  }

  send(event) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(event));
  }

  stopSpeaking() {
    this.send({ type: "response.cancel" });
    this.silence();
  }

  close() {
    this.ws?.close();
    this.context?.close();
  }
}
