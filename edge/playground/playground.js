// The playground: takes a file (chosen, dropped or recorded), sends it to /v1/vad or /v1/ocr of this
// origin with the key the user typed, and shows the answer, where it ran, and the curl command for it.

import { curlCommand } from './curl.js';
import { drawImageWithBoxes, drawWaveform } from './draw.js';
import { decodeAudio, encodeWav, pageSampleRate, sniff } from './wav.js';

const keyStorageName = 'edgeinfer-api-key';
const $ = (id) => document.getElementById(id);

/** The file last chosen, as it is sent: { name, bytes, kind: 'wav' | 'png' | 'jpeg', audio?, note? }. */
let current;
let recorder;
/** True while a chosen file waits for the key to be typed. */
let waitingForKey = false;

function show(id, visible) {
  $(id).hidden = !visible;
}

function setStatus(text) {
  $('status').textContent = text;
}

function showError(text) {
  $('error').textContent = text;
  show('error', Boolean(text));
}

function kilobytes(bytes) {
  return `${(bytes.length / 1024).toFixed(1)} KB`;
}

/** A chosen or dropped file as the API takes it: WAV, PNG and JPEG as they are, other audio decoded and re-encoded as WAV. */
async function prepare(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const kind = sniff(bytes);
  if (kind === 'png' || kind === 'jpeg') return { name: file.name, bytes, kind };
  if (kind === 'wav') {
    // Drawn if the browser decodes it; sent as it is either way, so the answer is for the very file chosen.
    const audio = await decodeAudio(bytes).catch(() => undefined);
    return { name: file.name, bytes, kind, audio };
  }
  if (file.type.startsWith('audio/') || file.type.startsWith('video/')) {
    const audio = await decodeAudio(bytes).catch(() => {
      throw new Error(`${file.name}: this browser cannot decode it; send a WAV`);
    });
    const name = `${file.name.replace(/\.[^.]*$/, '')}.wav`;
    return {
      name,
      bytes: encodeWav(audio.samples, audio.sampleRate),
      kind: 'wav',
      audio,
      note: `converted to ${name} (16-bit PCM, ${pageSampleRate} Hz) in the page`,
    };
  }
  throw new Error(`${file.name}: not a WAV, other audio, PNG or JPEG file`);
}

async function send() {
  if (!current) return;
  const apiKey = $('api-key').value.trim();
  showError('');
  waitingForKey = !apiKey;
  if (!apiKey) {
    showError('Enter an API key first.');
    return;
  }
  const audio = current.kind === 'wav';
  const path = audio ? '/v1/vad' : '/v1/ocr';
  const contentType = audio ? 'audio/wav' : `image/${current.kind}`;
  $('curl').textContent = curlCommand({ origin: location.origin, path, contentType, fileName: current.name });
  $('copy-curl').textContent = 'Copy';
  show('curl-section', true);
  setStatus(`Sending ${current.name} (${kilobytes(current.bytes)}) to ${path}${current.note ? `, ${current.note}` : ''}…`);
  const startedMs = performance.now();
  let response;
  try {
    response = await fetch(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': contentType },
      body: current.bytes,
    });
  } catch (err) {
    setStatus('');
    showError(`The request did not reach the server: ${err.message}`);
    return;
  }
  const elapsedMs = performance.now() - startedMs;
  const body = await response.json().catch(() => undefined);
  const requestId = response.headers.get('x-request-id') ?? '';
  if (!response.ok) {
    setStatus('');
    // The previous answer was for another request: left under this error it would read as this one's.
    show('result', false);
    const retryAfter = response.headers.get('retry-after');
    showError(
      `${response.status} ${response.statusText}: ${body?.error ?? 'no error message'}` +
        (retryAfter ? ` (try again in ${retryAfter} s)` : '') +
        (requestId ? ` [request ${requestId}]` : ''),
    );
    return;
  }
  setStatus(`${current.name}: answered in ${elapsedMs.toFixed(0)} ms.`);
  $('tier').textContent = response.headers.get('x-edgeinfer-tier') ?? 'unknown';
  // wasm at the edge; on the backend its execution provider (cuda, tensorrt, or cpu on a machine without a GPU).
  $('provider').textContent = response.headers.get('x-edgeinfer-provider') ?? 'unknown';
  $('models').textContent = Object.entries(body.models ?? {})
    .map(([model, version]) => `${model} v${version}`)
    .join(', ');
  $('request-id').textContent = requestId;
  $('elapsed').textContent = `${elapsedMs.toFixed(0)} ms`;
  show('result', true);
  if (audio) await showSpeech(body);
  else await showText(body);
}

function showSpeech(result) {
  $('result-title').textContent = 'Speech segments';
  show('image-result', false);
  show('audio-result', true);
  const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
  $('audio-summary').textContent =
    `${result.segments.length} segment${result.segments.length === 1 ? '' : 's'} of speech in ${seconds(result.duration_ms)} recorded at ${result.sample_rate} Hz.`;
  $('segments').replaceChildren(
    ...result.segments.map((segment) => {
      const item = document.createElement('li');
      item.textContent = `${seconds(segment.start_ms)} – ${seconds(segment.end_ms)}`;
      return item;
    }),
  );
  const canvas = $('canvas');
  canvas.width = 960;
  canvas.height = 200;
  if (current.audio) drawWaveform(canvas, current.audio.samples, current.audio.sampleRate, result.segments);
  show('canvas', Boolean(current.audio));
}

async function showText(result) {
  $('result-title').textContent = 'Text';
  show('audio-result', false);
  show('image-result', true);
  $('lines').replaceChildren(
    ...result.lines.map((line) => {
      const item = document.createElement('li');
      const text = document.createElement('span');
      text.className = 'line-text';
      text.textContent = line.text;
      const confidence = document.createElement('span');
      confidence.className = 'confidence';
      confidence.textContent = `${Math.round(line.confidence * 100)}%`;
      item.append(text, ' ', confidence);
      return item;
    }),
  );
  if (result.lines.length === 0) $('lines').textContent = 'No text found.';
  const image = await createImageBitmap(new Blob([current.bytes], { type: `image/${current.kind}` }));
  drawImageWithBoxes($('canvas'), image, result.lines);
  image.close();
  show('canvas', true);
}

async function choose(file) {
  showError('');
  try {
    current = await prepare(file);
  } catch (err) {
    current = undefined;
    showError(err.message);
    return;
  }
  await send();
}

async function toggleRecording() {
  const button = $('record');
  if (recorder?.state === 'recording') {
    recorder.stop();
    return;
  }
  showError('');
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (err) {
    showError(`No microphone: ${err.message}`);
    return;
  }
  const chunks = [];
  recorder = new MediaRecorder(stream);
  recorder.addEventListener('dataavailable', (event) => chunks.push(event.data));
  recorder.addEventListener('stop', async () => {
    for (const track of stream.getTracks()) track.stop();
    button.textContent = 'Record from the microphone';
    // MediaRecorder gives compressed audio (WebM/Opus, MP4/AAC); the API takes WAV, made here.
    try {
      const audio = await decodeAudio(new Uint8Array(await new Blob(chunks).arrayBuffer()));
      current = { name: 'recording.wav', bytes: encodeWav(audio.samples, audio.sampleRate), kind: 'wav', audio };
      await send();
    } catch (err) {
      showError(`The recording could not be decoded: ${err.message}`);
    }
  });
  recorder.start();
  button.textContent = 'Stop and send';
  setStatus('Recording… press “Stop and send” when done.');
}

function init() {
  const keyInput = $('api-key');
  keyInput.value = sessionStorage.getItem(keyStorageName) ?? '';
  keyInput.addEventListener('input', () => sessionStorage.setItem(keyStorageName, keyInput.value.trim()));
  // A file chosen before the key was typed is sent once the key is there.
  keyInput.addEventListener('change', () => waitingForKey && send());

  $('file').addEventListener('change', (event) => {
    const [file] = event.target.files;
    if (file) choose(file);
    event.target.value = '';
  });
  const zone = $('drop-zone');
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    const [file] = event.dataTransfer.files;
    if (file) choose(file);
  });
  $('record').addEventListener('click', toggleRecording);
  for (const button of document.querySelectorAll('[data-sample]')) {
    button.addEventListener('click', async () => {
      const url = button.dataset.sample;
      const response = await fetch(url);
      if (!response.ok) return showError(`The sample ${url} could not be loaded (${response.status}).`);
      const name = url.slice(url.lastIndexOf('/') + 1);
      await choose(new File([await response.arrayBuffer()], name, { type: response.headers.get('content-type') ?? '' }));
    });
  }
  $('copy-curl').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText($('curl').textContent);
      $('copy-curl').textContent = 'Copied';
    } catch {
      // No clipboard permission: select the command for the user to copy.
      getSelection().selectAllChildren($('curl'));
    }
  });
}

init();
