#!/usr/bin/python3
"""make_figures.py - the figures and tables of docs/why-cnn.md, from real runs.

Run from the repository root after building (cmake --build build -j2), with
Debian's python3 (python3-pil, python3-numpy):

    /usr/bin/python3 docs/figures/make_figures.py --current /work/models/current

1. Trains the models the comparison needs, each only when its file is not yet
   in --runs (default models/why-cnn, which git ignores), logging dn-train's
   output to docs/figures/logs/NAME.log and its per-epoch metrics to
   docs/figures/logs/NAME.jsonl (the commands are in TRAIN below).
2. Runs build/tests/why_cnn on them and on the demo's models in --current
   (cnn.safetensors and mlp.safetensors, when there), writing RUNS/why_cnn.json.
3. Draws every figure into docs/figures/ and writes the tables the doc quotes
   to docs/figures/why-cnn-tables.md.

--skip-runs redraws from an existing RUNS/why_cnn.json without running anything.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
LOGS = os.path.join(HERE, 'logs')

# The models trained for the comparison: MNIST's 60,000 training digits only
# (no drawn digits, no non-digits), 5 epochs, seed 1, dn-train's defaults
# otherwise. The cnn without augmentation (and so with dropout) and the mlp
# as it trains by default: the two differ in architecture, not in their data.
# mlp-aug is the mlp given the cnn's default augmentation, as a control.
TRAIN = {
    'mlp': ['--model', 'mlp', '--drawn', '0', '--others', '0'],
    'cnn': ['--model', 'cnn', '--no-augment', '--drawn', '0', '--others', '0'],
    'mlp-aug': ['--model', 'mlp', '--augment', '--drawn', '0', '--others', '0'],
}
COMMON = ['--epochs', '5', '--seed', '1', '--quiet', '--threads', '1']

COLORS = {'cnn': '#1f77b4', 'mlp': '#d62728', 'mlp-aug': '#ff7f0e', 'demo-cnn': '#6baed6', 'demo-mlp': '#fc9272'}


def font(size):
    for path in ('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',):
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default()


def run(cmd, log=None):
    print('+ ' + ' '.join(cmd), flush=True)
    if log:
        with open(log, 'w') as f:
            subprocess.run(cmd, check=True, stdout=f, stderr=subprocess.STDOUT)
    else:
        subprocess.run(cmd, check=True)


def train(args):
    os.makedirs(args.runs, exist_ok=True)
    os.makedirs(LOGS, exist_ok=True)
    for name, opts in TRAIN.items():
        out = os.path.join(args.runs, name + '.safetensors')
        if os.path.exists(out):
            print(f'{out} exists: not trained again')
            continue
        metrics = os.path.relpath(os.path.join(LOGS, name + '.jsonl'))
        run([os.path.join(args.build, 'cli', 'dn-train')] + opts + COMMON +
            ['--data', args.data, '--out', out, '--metrics', metrics], log=os.path.join(LOGS, name + '.log'))


def measure(args, path):
    models = [f'{name}={os.path.join(args.runs, name + ".safetensors")}' for name in TRAIN]
    for name in ('cnn', 'mlp'):
        demo = os.path.join(args.current, name + '.safetensors')
        if os.path.exists(demo):
            models.append(f'demo-{name}={demo}')
    run([os.path.join(args.build, 'tests', 'why_cnn')] + models +
        ['--data', args.data, '--count', str(args.count), '--saliency', str(args.saliency), '--out', path])


# ---- SVG line charts ----

def line_chart(path, title, series, xlabel, ylabel, xticks, yticks, xlim, ylim, note=None):
    """series: (label, xs, ys, color, dash) with dash '' for solid."""
    W, H, L, R, T, B = 640, 400, 62, 190, 36, 48
    pw, ph = W - L - R, H - T - B

    def sx(x):
        return L + (x - xlim[0]) / (xlim[1] - xlim[0]) * pw

    def sy(y):
        return T + (1 - (y - ylim[0]) / (ylim[1] - ylim[0])) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           'font-family="DejaVu Sans, Verdana, sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{L}" y="20" font-size="14" font-weight="bold">{title}</text>']
    for x in xticks:
        out.append(f'<line x1="{sx(x):.1f}" y1="{T}" x2="{sx(x):.1f}" y2="{T + ph}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{sx(x):.1f}" y="{T + ph + 16}" text-anchor="middle">{x:g}</text>')
    for y in yticks:
        out.append(f'<line x1="{L}" y1="{sy(y):.1f}" x2="{L + pw}" y2="{sy(y):.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{L - 6}" y="{sy(y) + 4:.1f}" text-anchor="end">{y:g}</text>')
    out.append(f'<rect x="{L}" y="{T}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
    out.append(f'<text x="{L + pw / 2}" y="{H - 10}" text-anchor="middle">{xlabel}</text>')
    out.append(f'<text transform="translate(16 {T + ph / 2}) rotate(-90)" text-anchor="middle">{ylabel}</text>')
    for i, (label, xs, ys, color, dash) in enumerate(series):
        pts = ' '.join(f'{sx(x):.1f},{sy(y):.1f}' for x, y in zip(xs, ys))
        d = f' stroke-dasharray="{dash}"' if dash else ''
        out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"{d}/>')
        for x, y in zip(xs, ys):
            out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{color}"/>')
        ly = T + 10 + i * 20
        out.append(f'<line x1="{L + pw + 12}" y1="{ly}" x2="{L + pw + 40}" y2="{ly}" stroke="{color}" '
                   f'stroke-width="2"{d}/>')
        out.append(f'<text x="{L + pw + 46}" y="{ly + 4}">{label}</text>')
    if note:
        for i, line in enumerate(note):
            out.append(f'<text x="{L + pw + 12}" y="{T + ph - 10 - 16 * (len(note) - 1 - i)}" font-size="10" '
                       f'fill="#555">{line}</text>')
    out.append('</svg>')
    with open(path, 'w') as f:
        f.write('\n'.join(out) + '\n')
    print('wrote ' + os.path.relpath(path))


def training_curves():
    logs = {}
    for name in TRAIN:
        p = os.path.join(LOGS, name + '.jsonl')
        if os.path.exists(p):
            with open(p) as f:
                logs[name] = [json.loads(line) for line in f if line.strip()]
    for key, title, ylabel, scale, ylim, yticks in (
            ('test_acc', 'MNIST test accuracy after each epoch', 'test accuracy (%)', 100, (95.5, 100),
             [96, 97, 98, 99, 100]),
            ('train_loss', 'Mean training loss in each epoch', 'training loss (cross-entropy)', 1, (0, 0.55),
             [0, 0.1, 0.2, 0.3, 0.4, 0.5])):
        series = []
        for name, rows in logs.items():
            series.append((name, [r['epoch'] for r in rows], [r[key] * scale for r in rows], COLORS[name],
                           '6 3' if name == 'mlp-aug' else ''))
        line_chart(os.path.join(HERE, f'training-{key.replace("_", "-")}.svg'), title, series, 'epoch', ylabel,
                   [1, 2, 3, 4, 5], yticks, (0.8, 5.2), ylim,
                   note=['MNIST only, 5 epochs, seed 1', 'logs/*.jsonl'])


def shift_curve(data):
    names = [m['name'] for m in data['models']]
    shifts = [c for c in data['conditions'] if c['group'] == 'shift']
    ks = sorted(set(c['value'] for c in shifts))

    def acc(model, kind, k):
        i = names.index(model)
        rows = [c for c in shifts if c['value'] == k]
        return 100 * sum(c[kind][i] for c in rows) / sum(c['count'] for c in rows)

    series = []
    for model, dash_shrunk in (('cnn', ''), ('mlp', ''), ('mlp-aug', '2 3')):
        if model not in names:
            continue
        series.append((f'{model}', ks, [acc(model, 'shrunk', k) for k in ks], COLORS[model], dash_shrunk))
    for model in ('cnn', 'mlp'):
        series.append((f'{model}, preprocessed', ks, [acc(model, 'preprocessed', k) for k in ks], COLORS[model],
                       '7 4'))
    kept = [100 * np.mean([c['ink_kept'] for c in shifts if c['value'] == k]) for k in ks]
    series.append(('ink inside the frame', ks, kept, '#999999', '1 3'))
    line_chart(os.path.join(HERE, 'accuracy-vs-shift.svg'), 'Test digits moved k pixels (mean of right, left, down, up)',
               series, 'shift k (pixels of the 28x28 image)', 'accuracy (%)', ks, [0, 20, 40, 60, 80, 100],
               (-0.3, max(ks) + 0.3), (0, 100),
               note=[f'first {shifts[0]["count"]} MNIST test digits', 'trained on MNIST only'])


# ---- pictures ----

def gray(pixels, scale):
    a = np.clip(np.asarray(pixels, dtype=np.float32).reshape(28, 28), 0, 255).astype(np.uint8)
    return Image.fromarray(a, 'L').resize((28 * scale, 28 * scale), Image.NEAREST)


def hot(values):
    """values in [0,1] -> RGB uint8, black-red-yellow-white."""
    v = np.clip(values, 0, 1)
    r = np.clip(v * 3, 0, 1)
    g = np.clip(v * 3 - 1, 0, 1)
    b = np.clip(v * 3 - 2, 0, 1)
    return (np.stack([r, g, b], -1) * 255).astype(np.uint8)


def saliency_image(digit, smap, scale):
    """The saliency over the digit, dimmed: heat = |grad| / its max, ^0.6 as on the demo page."""
    s = np.asarray(smap, dtype=np.float32).reshape(28, 28)
    heat = (s / s.max()) ** 0.6 if s.max() > 0 else s
    base = 30 + np.asarray(digit, dtype=np.float32).reshape(28, 28) * 0.45
    rgb = base[..., None] * (1 - heat[..., None]) + hot(heat).astype(np.float32) * heat[..., None]
    img = Image.fromarray(rgb.astype(np.uint8), 'RGB')
    return img.resize((28 * scale, 28 * scale), Image.NEAREST)


def save(img, name):
    img.save(os.path.join(HERE, name), optimize=True)
    print('wrote ' + os.path.relpath(os.path.join(HERE, name)))


def read_test_images(data_dir):
    with open(os.path.join(data_dir, 't10k-images-idx3-ubyte'), 'rb') as f:
        raw = f.read()
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 28, 28)


def mistakes(data, images, model, limit=40, cols=10):
    m = next(m for m in data['models'] if m['name'] == model)
    wrong = m['mnist_test']['mistakes'][:limit]
    scale, pad, text_h = 3, 6, 18
    cell_w, cell_h = 28 * scale + pad, 28 * scale + text_h + pad
    rows = (len(wrong) + cols - 1) // cols
    title_h = 28
    img = Image.new('RGB', (cols * cell_w + pad, rows * cell_h + title_h + pad), 'white')
    d = ImageDraw.Draw(img)
    f = font(13)
    total = len(m['mnist_test']['mistakes'])
    d.text((pad, 6), f'{model}: the first {len(wrong)} of its {total} mistakes on the 10,000 MNIST test digits '
           '(true digit -> its answer)', fill='black', font=f)
    for i, (index, label, answer, prob) in enumerate(wrong):
        x, y = pad + (i % cols) * cell_w, title_h + (i // cols) * cell_h
        img.paste(gray(images[index], scale), (x, y))
        d.text((x + 2, y + 28 * scale + 1), f'{label} -> {answer}  {prob:.2f}', fill='black', font=font(11))
    save(img, f'mistakes-{model}.png')


def saliency_figure(data, models=('cnn', 'mlp')):
    sal = {m['name']: m for m in data['saliency']['models']}
    scale, pad, label_w = 3, 6, 150
    size = 28 * scale
    n = len(data['saliency']['show'])
    blocks = []
    for key, what in (('as_is', 'MNIST test digits'), ('moved', f'moved {data["saliency"]["show_shift"]} px\nright and down')):
        blocks.append((f'{what}', 'input', None, key))
        for model in models:
            if model in sal:
                blocks.append((f'{model} saliency', 'map', model, key))
    img = Image.new('RGB', (label_w + n * (size + pad) + pad, len(blocks) * (size + pad + 16) + pad), 'white')
    d = ImageDraw.Draw(img)
    f = font(12)
    first = sal[models[0]]
    for row, (label, kind, model, key) in enumerate(blocks):
        y = pad + row * (size + pad + 16)
        d.multiline_text((pad, y + size // 2 - 8), label, fill='black', font=f)
        for i in range(n):
            x = label_w + i * (size + pad)
            digit = first[key]['inputs'][i]
            if kind == 'input':
                img.paste(gray(digit, scale), (x, y))
            else:
                m = sal[model][key]
                img.paste(saliency_image(digit, m['maps'][i], scale), (x, y))
                d.text((x, y + size + 1), f'answer {m["answers"][i]}', fill='black', font=font(10))
    save(img, 'saliency.png')


def conv1_figure(data, model='cnn'):
    sal = next(m for m in data['saliency']['models'] if m['name'] == model)
    w = np.asarray(sal['conv1_weight']['values'], dtype=np.float32).reshape(32, 3, 3)
    maps = np.asarray(sal['as_is']['hidden'], dtype=np.float32).reshape(32, 26, 26)
    digit = sal['as_is']['inputs'][0]
    fs, ms, pad, cols = 13, 2, 8, 8  # filter cell 3x13 px, map 26x2 px
    cell_w, cell_h = 52 + pad, 3 * fs + 52 + 3 * pad
    title_h = 40
    img = Image.new('RGB', (cols * cell_w + pad + 110, 4 * cell_h + title_h + pad), 'white')
    d = ImageDraw.Draw(img)
    d.text((pad, 6), f'{model}: conv1\'s 32 filters (3x3; red +, blue -, each scaled to its own largest weight)',
           fill='black', font=font(12))
    d.text((pad, 22), 'and, under each, its map (after relu) for the digit on the right; bright = strong',
           fill='black', font=font(12))
    mmax = maps.max() if maps.max() > 0 else 1
    for k in range(32):
        x, y = pad + (k % cols) * cell_w, title_h + (k // cols) * cell_h
        f = w[k] / np.abs(w[k]).max()
        rgb = np.ones((3, 3, 3), np.float32)
        rgb[..., 0] = np.where(f < 0, 1 + f, 1)
        rgb[..., 1] = 1 - np.abs(f)
        rgb[..., 2] = np.where(f > 0, 1 - f, 1)
        fimg = Image.fromarray((rgb * 255).astype(np.uint8), 'RGB').resize((3 * fs, 3 * fs), Image.NEAREST)
        img.paste(fimg, (x + (52 - 3 * fs) // 2, y))
        mimg = Image.fromarray((np.clip(maps[k] / mmax, 0, 1) * 255).astype(np.uint8), 'L').resize((52, 52),
                                                                                                  Image.NEAREST)
        img.paste(mimg, (x, y + 3 * fs + pad))
    img.paste(gray(digit, 3), (pad + cols * cell_w + 10, title_h))
    save(img, 'conv1.png')


def templates_figure(data, model='mlp'):
    sal = next(m for m in data['saliency']['models'] if m['name'] == model)
    w = np.asarray(sal['fc1_templates'], dtype=np.float32).reshape(16, 28, 28)
    s, pad, cols = 3, 6, 8
    img = Image.new('RGB', (cols * (28 * s + pad) + pad, 2 * (28 * s + pad) + 30), 'white')
    d = ImageDraw.Draw(img)
    d.text((pad, 6), f'{model}: the weights of fc1\'s first 16 units, each a 28x28 template (red +, blue -)',
           fill='black', font=font(12))
    for k in range(16):
        f = w[k] / np.abs(w[k]).max()
        rgb = np.ones((28, 28, 3), np.float32)
        rgb[..., 0] = np.where(f < 0, 1 + f, 1)
        rgb[..., 1] = 1 - np.abs(f)
        rgb[..., 2] = np.where(f > 0, 1 - f, 1)
        t = Image.fromarray((rgb * 255).astype(np.uint8), 'RGB').resize((28 * s, 28 * s), Image.NEAREST)
        img.paste(t, (pad + (k % cols) * (28 * s + pad), 26 + (k // cols) * (28 * s + pad)))
    save(img, 'mlp-fc1.png')


def equivariance_figure(data):
    sal = {m['name']: m for m in data['saliency']['models']}
    cnn, mlp = sal['cnn'], sal['mlp']
    shift = data['saliency']['show_shift']
    a = np.asarray(cnn['as_is']['hidden'], np.float32).reshape(32, 26, 26)
    b = np.asarray(cnn['moved']['hidden'], np.float32).reshape(32, 26, 26)
    strongest = list(np.argsort(-a.reshape(32, -1).sum(1))[:4])
    ha = np.asarray(mlp['as_is']['hidden'], np.float32).reshape(8, 16)
    hb = np.asarray(mlp['moved']['hidden'], np.float32).reshape(8, 16)
    pad, s = 8, 3
    img = Image.new('RGB', (2 * (28 * s + pad) + 4 * (26 * s + pad) + 200, 2 * (28 * s + 40) + 3 * pad + 40),
                    'white')
    d = ImageDraw.Draw(img)
    f = font(12)
    d.text((pad, 4), f'The same digit as it is (top) and moved {shift} px right and down (bottom)', fill='black',
           font=f)
    for row, (key, h, maps) in enumerate((('as_is', ha, a), ('moved', hb, b))):
        y = 26 + row * (28 * s + 40)
        img.paste(gray(cnn[key]['inputs'][0], s), (pad, y))
        x = pad + 28 * s + 2 * pad
        mmax = max(a.max(), b.max())
        for k in strongest:
            m = Image.fromarray((np.clip(maps[k] / mmax, 0, 1) * 255).astype(np.uint8), 'L')
            img.paste(m.resize((26 * s, 26 * s), Image.NEAREST), (x, y))
            x += 26 * s + pad
        hmax = max(ha.max(), hb.max())
        u = Image.fromarray((np.clip(h / hmax, 0, 1) * 255).astype(np.uint8), 'L').resize((16 * 12, 8 * 12),
                                                                                          Image.NEAREST)
        img.paste(u, (x + pad, y))
        if row == 0:
            d.text((pad + 28 * s + 2 * pad, y + 26 * s + 2), 'cnn: conv1 maps (4 strongest)', fill='black', font=f)
            d.text((x + pad, y + 8 * 12 + 2), 'mlp: its 128 fc1 units', fill='black', font=f)
    save(img, 'equivariance.png')


def examples_figure(data, names=('as in MNIST', '4 px right', '8 px right', 'scaled x0.50', 'scaled x1.30',
                                 'rotated +30 deg', 'thickened by 2.0 px a side', 'thinned by 0.5 px a side',
                                 'off-centre', 'small', 'dark on light')):
    conds = {c['name']: c for c in data['conditions']}
    names = [n for n in names if n in conds]
    s, pad, label_w = 3, 8, 110
    img = Image.new('RGB', (label_w + len(names) * (28 * s + pad), 2 * (28 * s + pad) + 60), 'white')
    d = ImageDraw.Draw(img)
    f = font(11)
    for row, kind in enumerate(('shrunk', 'preprocessed')):
        y = 40 + row * (28 * s + pad)
        d.text((pad, y + 28 * s // 2 - 8), kind, fill='black', font=font(12))
        for i, n in enumerate(names):
            x = label_w + i * (28 * s + pad)
            img.paste(gray(conds[n]['example'][kind], s), (x, y))
            if row == 0:
                words = n.replace(' by ', '\nby ').replace(' a side', '').replace('rotated ', 'rotated\n').split('\n')
                for j, wd in enumerate(words):
                    d.text((x, 4 + 14 * j), wd, fill='black', font=f)
    save(img, 'renderings.png')


# ---- tables ----

def tables(data, path):
    names = [m['name'] for m in data['models']]
    out = []
    out.append('<!-- written by docs/figures/make_figures.py from models/why-cnn/why_cnn.json; do not edit -->\n')
    out.append('## Models\n')
    out.append('| model | parameters | of them in conv layers | MNIST test accuracy | mistakes |')
    out.append('|---|---|---|---|---|')
    for m in data['models']:
        conv = sum(t['size'] for t in m['tensors'] if t['name'].startswith('conv'))
        mt = m['mnist_test']
        out.append(f'| {m["name"]} | {m["params"]:,} | {conv:,} | {100 * mt["right"] / mt["count"]:.2f}% '
                   f'| {mt["count"] - mt["right"]} |')
    out.append('')
    out.append('Per tensor:\n')
    for m in data['models']:
        if m['name'] in ('cnn', 'mlp'):
            out.append(f'- {m["name"]}: ' + ', '.join(f'{t["name"]} {"x".join(map(str, t["shape"]))} = {t["size"]:,}'
                                                        for t in m['tensors']))
    out.append('')
    mistakes = {m['name']: {w[0] for w in m['mnist_test']['mistakes']} for m in data['models']}
    if 'cnn' in mistakes and 'mlp' in mistakes:
        both = len(mistakes['cnn'] & mistakes['mlp'])
        out.append(f'Test digits both cnn and mlp get wrong: {both} (of {len(mistakes["cnn"])} and '
                   f'{len(mistakes["mlp"])}).\n')

    def group_rows(select):
        rows = {}
        for c in data['conditions']:
            key = select(c)
            if key is None:
                continue
            rows.setdefault(key, []).append(c)
        return rows

    def label(c):
        g = c['group']
        if g == 'shift':
            return 'as in MNIST' if c['value'] == 0 else f'moved {c["value"]:g} px (4 directions)'
        if g == 'rotate':
            return f'rotated ±{abs(c["value"]):g}°'
        return c['name']

    rows = group_rows(label)
    count = data['conditions'][0]['count']
    for title, cols in (('MNIST-trained models', ['mlp', 'cnn']),
                        ('Controls: the mlp trained with augmentation, and the demo\'s models',
                         ['mlp-aug', 'demo-mlp', 'demo-cnn'])):
        cols = [c for c in cols if c in names]
        if not cols:
            continue
        out.append(f'## {title}: accuracy on the first {count} test digits, shrunk / preprocessed\n')
        out.append('| rendering | ' + ' | '.join(f'{c} shrunk | {c} preprocessed' for c in cols) + ' | ink in frame |')
        out.append('|---|' + '---|---|' * len(cols) + '---|')
        for key, cs in rows.items():
            n = sum(c['count'] for c in cs)
            cells = []
            for col in cols:
                i = names.index(col)
                for kind in ('shrunk', 'preprocessed'):
                    cells.append(f'{100 * sum(c[kind][i] for c in cs) / n:.1f}%')
            kept = np.mean([c['ink_kept'] for c in cs])
            group = cs[0]['group']
            prefix = 'drawn: ' if group == 'canvas' else ''
            out.append(f'| {prefix}{key} | ' + ' | '.join(cells) + f' | {100 * kept:.0f}% |')
        out.append('')
    s = data['saliency']
    out.append(f'## Saliency and equivariance, first {s["count"]} test digits\n')
    out.append('| model | saliency on or next to the strokes (mean) | lowest for one digit | strokes and neighbours '
               f'cover | first hidden layer: cosine, digit vs moved {s["eq_shift"]} px right | the same with the maps '
               'moved along |')
    out.append('|---|---|---|---|---|---|')
    for m in s['models']:
        spatial = m['hidden_shape'][1] > 1
        out.append(f'| {m["name"]} | {100 * m["on_strokes_mean"]:.1f}% | {100 * m["on_strokes_min"]:.1f}% '
                   f'| {100 * m["stroke_area"]:.1f}% | {m["cos_same_place"]:.3f} | '
                   f'{m["cos_moved_along"]:.3f} |' if spatial else
                   f'| {m["name"]} | {100 * m["on_strokes_mean"]:.1f}% | {100 * m["on_strokes_min"]:.1f}% '
                   f'| {100 * m["stroke_area"]:.1f}% | {m["cos_same_place"]:.3f} | (no positions to move) |')
    out.append('')
    with open(path, 'w') as f:
        f.write('\n'.join(out))
    print('wrote ' + os.path.relpath(path))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--build', default='build')
    p.add_argument('--data', default='datasets/mnist')
    p.add_argument('--runs', default='models/why-cnn')
    p.add_argument('--current', default='models', help='folder of the demo\'s cnn.safetensors and mlp.safetensors')
    p.add_argument('--count', type=int, default=1000)
    p.add_argument('--saliency', type=int, default=1000)
    p.add_argument('--skip-runs', action='store_true')
    args = p.parse_args()
    path = os.path.join(args.runs, 'why_cnn.json')
    if not args.skip_runs:
        train(args)
        measure(args, path)
    with open(path) as f:
        data = json.load(f)
    images = read_test_images(args.data)
    training_curves()
    shift_curve(data)
    for model in ('cnn', 'mlp'):
        mistakes(data, images, model)
    saliency_figure(data)
    conv1_figure(data)
    templates_figure(data)
    equivariance_figure(data)
    examples_figure(data)
    tables(data, os.path.join(HERE, 'why-cnn-tables.md'))


if __name__ == '__main__':
    sys.exit(main())
