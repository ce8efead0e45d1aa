// digitnet canvas demo: the drawing read as a number. Draws a box over each
// part the server found (data.number.parts, boxes in the pixels of the picture
// the server read: number.width x number.height) with its answer, and the
// whole number along the drawing's bottom edge. The picture is the canvas
// itself for a drawing; an image dropped or pasted is drawn scaled to fit the
// canvas and centred (app.js), and its boxes are mapped the same way. app.js
// calls show() with each answer's `number` and clear() when the drawing is
// cleared.
'use strict';

window.dnNumbers = (() => {
  const pad = document.getElementById('pad');
  const overlay = document.createElement('canvas');
  overlay.width = pad.width;
  overlay.height = pad.height;
  overlay.className = 'number-overlay';
  overlay.setAttribute('aria-hidden', 'true');
  pad.parentElement.appendChild(overlay);
  const line = document.createElement('p');
  line.className = 'number-line';
  line.id = 'number';
  line.hidden = true;
  pad.parentElement.appendChild(line); // over the drawing's bottom edge (style.css)
  const ctx = overlay.getContext('2d');

  function clear() {
    ctx.clearRect(0, 0, overlay.width, overlay.height);
    line.hidden = true;
    line.textContent = '';
  }

  // From the picture's pixels to the canvas's: as app.js draws an image into
  // the canvas (scaled to fit, centred); the identity for a drawing.
  function placement(number) {
    const W = number.width;
    const H = number.height;
    if (!(W > 0 && H > 0)) return { scale: 1, ox: 0, oy: 0 };
    const scale = Math.min(overlay.width / W, overlay.height / H);
    return { scale, ox: (overlay.width - W * scale) / 2, oy: (overlay.height - H * scale) / 2 };
  }

  function show(number) {
    clear();
    if (!number || !Array.isArray(number.parts) || number.parts.length === 0) return;
    ctx.lineWidth = 2;
    ctx.font = 'bold 14px system-ui, sans-serif';
    ctx.textBaseline = 'bottom';
    const at = placement(number);
    for (const part of number.parts) {
      const x = at.ox + part.box[0] * at.scale;
      const y = at.oy + part.box[1] * at.scale;
      const w = part.box[2] * at.scale;
      const h = part.box[3] * at.scale;
      const digit = part.kind === 'digit';
      ctx.strokeStyle = digit ? 'rgba(37, 99, 235, 0.85)' : 'rgba(160, 160, 160, 0.85)';
      ctx.strokeRect(x - 2, y - 2, w + 4, h + 4);
      ctx.fillStyle = ctx.strokeStyle;
      const label = digit ? `${part.digit} ${Math.round(part.prob * 100)}%` : part.kind;
      ctx.fillText(label, x - 2, Math.max(14, y - 4));
    }
    if (number.parts.length > 1) {
      line.textContent = number.text ? `The number: ${number.text}` : 'No digits in this number.';
      line.hidden = false;
    }
  }

  return { show, clear };
})();
