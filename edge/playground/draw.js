// Drawing answers on a canvas: speech segments shaded behind the waveform, text boxes over the image.

export const segmentFill = 'rgba(46, 160, 67, 0.3)';
const background = '#fafafa';
const ink = '#333';
const boxStroke = 'rgb(220, 38, 38)';

/** The waveform as min/max per pixel column, the segments shaded behind it, a tick each second. */
export function drawWaveform(canvas, samples, sampleRate, segments) {
  const context = canvas.getContext('2d');
  const { width, height } = canvas;
  const durationMs = (samples.length / sampleRate) * 1000;
  const x = (ms) => (ms / durationMs) * width;
  context.fillStyle = background;
  context.fillRect(0, 0, width, height);
  context.fillStyle = segmentFill;
  for (const segment of segments) context.fillRect(x(segment.start_ms), 0, Math.max(1, x(segment.end_ms) - x(segment.start_ms)), height);

  context.fillStyle = ink;
  const perColumn = samples.length / width;
  const middle = height / 2;
  for (let column = 0; column < width; column++) {
    let min = 0;
    let max = 0;
    for (let i = Math.floor(column * perColumn); i < Math.floor((column + 1) * perColumn); i++) {
      if (samples[i] < min) min = samples[i];
      if (samples[i] > max) max = samples[i];
    }
    // Leave the top and bottom rows clear, so the shading shows at every column.
    const top = middle - max * (middle - 12);
    context.fillRect(column, top, 1, Math.max(1, (max - min) * (middle - 12)));
  }
  context.font = '11px system-ui, sans-serif';
  for (let second = 1; second * 1000 < durationMs; second++) {
    context.fillRect(x(second * 1000), height - 6, 1, 6);
    context.fillText(`${second} s`, x(second * 1000) + 3, height - 1);
  }
}

/** The image at its own size, each line's box outlined and numbered as in the list. */
export function drawImageWithBoxes(canvas, image, lines) {
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  context.strokeStyle = boxStroke;
  context.fillStyle = boxStroke;
  context.lineWidth = Math.max(2, image.width / 400);
  context.font = `${Math.max(12, Math.round(image.width / 60))}px system-ui, sans-serif`;
  lines.forEach((line, index) => {
    context.beginPath();
    line.box.forEach(([px, py], corner) => (corner ? context.lineTo(px, py) : context.moveTo(px, py)));
    context.closePath();
    context.stroke();
    const [left, top] = line.box[0];
    context.fillText(String(index + 1), left, Math.max(12, top - 4));
  });
}
