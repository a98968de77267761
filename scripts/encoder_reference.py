"""Float32 numpy reference of all-MiniLM-L6-v2 (BERT, 6 layers, 384 hidden, 12 heads, GELU-erf,
mean pooling over the attention mask, L2 normalisation), reading the same model.safetensors and
token ids as the Rust encoder. Prints a JSON fixture: {sentence, ids, embedding} per line of stdin.

Usage: python scripts/encoder_reference.py MODEL_DIR < sentences.txt > fixture.json
The token ids come from the `tokenizers` library when it is installed, else from a plain BERT
WordPiece written here (same rules as crates/sottovoce-encoder/src/tokenizer.rs)."""
import json, math, struct, sys, unicodedata
import numpy as np

def load(path):
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    head = json.loads(b[8:8 + n])
    out = {}
    for k, v in head.items():
        if k == '__metadata__' or v['dtype'] != 'F32':
            continue
        s, e = v['data_offsets']
        out[k] = np.frombuffer(b[8 + n + s:8 + n + e], dtype='<f4').reshape(v['shape'])
    return out

def wordpiece(text, vocab):
    text = text.lower()
    text = ''.join(c for c in unicodedata.normalize('NFD', text) if unicodedata.category(c) != 'Mn')
    words, cur = [], ''
    for c in text:
        cat = unicodedata.category(c)
        if c.isspace():
            if cur: words.append(cur); cur = ''
        elif cat.startswith('P') or (33 <= ord(c) <= 47 or 58 <= ord(c) <= 64 or 91 <= ord(c) <= 96 or 123 <= ord(c) <= 126):
            if cur: words.append(cur); cur = ''
            words.append(c)
        elif cat.startswith('C') and c not in '\t\n\r':
            continue
        else:
            cur += c
    if cur: words.append(cur)
    ids = [vocab['[CLS]']]
    for w in words:
        if len(w) > 100:
            ids.append(vocab['[UNK]']); continue
        start, pieces = 0, []
        while start < len(w):
            end = len(w)
            found = None
            while start < end:
                sub = ('##' if start > 0 else '') + w[start:end]
                if sub in vocab:
                    found = vocab[sub]; break
                end -= 1
            if found is None:
                pieces = [vocab['[UNK]']]; break
            pieces.append(found); start = end
        ids.extend(pieces)
    return ids[:255] + [vocab['[SEP]']]

def ln(x, w, b):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + 1e-12) * w + b

def gelu(x):
    from math import erf
    return 0.5 * x * (1 + np.vectorize(erf)(x / math.sqrt(2)))

def embed(W, ids):
    n = len(ids)
    x = W['embeddings.word_embeddings.weight'][ids] + W['embeddings.position_embeddings.weight'][:n] \
        + W['embeddings.token_type_embeddings.weight'][0]
    x = ln(x, W['embeddings.LayerNorm.weight'], W['embeddings.LayerNorm.bias'])
    for l in range(6):
        p = f'encoder.layer.{l}.'
        lin = lambda h, name: h @ W[p + name + '.weight'].T + W[p + name + '.bias']
        q = lin(x, 'attention.self.query').reshape(n, 12, 32).transpose(1, 0, 2)
        k = lin(x, 'attention.self.key').reshape(n, 12, 32).transpose(1, 0, 2)
        v = lin(x, 'attention.self.value').reshape(n, 12, 32).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(32)
        s = np.exp(s - s.max(-1, keepdims=True)); s /= s.sum(-1, keepdims=True)
        a = (s @ v).transpose(1, 0, 2).reshape(n, 384)
        x = ln(x + lin(a, 'attention.output.dense'), W[p + 'attention.output.LayerNorm.weight'], W[p + 'attention.output.LayerNorm.bias'])
        h = gelu(lin(x, 'intermediate.dense'))
        x = ln(x + lin(h, 'output.dense'), W[p + 'output.LayerNorm.weight'], W[p + 'output.LayerNorm.bias'])
    e = x.mean(0)
    return e / np.linalg.norm(e)

if __name__ == '__main__':
    d = sys.argv[1]
    W = load(d + '/model.safetensors')
    vocab = json.load(open(d + '/tokenizer.json'))['model']['vocab']
    try:
        from tokenizers import Tokenizer
        tok = Tokenizer.from_file(d + '/tokenizer.json')
        ids_of = lambda s: tok.encode(s).ids
    except ImportError:
        ids_of = lambda s: wordpiece(s, vocab)
    out = []
    for line in sys.stdin:
        s = line.rstrip('\n')
        if not s:
            continue
        ids = ids_of(s)
        out.append({'sentence': s, 'ids': ids, 'embedding': [round(float(v), 6) for v in embed(W, ids)]})
    json.dump(out, sys.stdout)
