# Writes Fixtures/nfc-reference.tsv: strings and their NFC by Python's unicodedata.normalize('NFC', s), one per line
# as "input code points<TAB>NFC code points<TAB>what the line tests", code points in hex separated by spaces.
# Usage: python3 make_nfc_reference.py > Fixtures/nfc-reference.tsv
import random
import unicodedata

nfc = lambda s: unicodedata.normalize('NFC', s)
lines = []


def add(s, note):
    lines.append('%s\t%s\t%s' % (' '.join('%X' % ord(c) for c in s), ' '.join('%X' % ord(c) for c in nfc(s)), note))


# (a) Every code point with a decomposition (canonical or compatibility) or a non-zero combining class, alone.
interesting = [cp for cp in range(0x110000) if unicodedata.decomposition(chr(cp)) or unicodedata.combining(chr(cp))]
for cp in interesting:
    add(chr(cp), 'single')

# (b) Sequences chosen for one rule each.
tricky = [
    ('e\u0301', 'compose'), ('E\u0301\u0301', 'second acute blocked by the first'),
    ('a\u0323\u0302', 'dot below then circumflex'), ('a\u0302\u0323', 'reordered: circumflex after dot below'),
    ('\u1EA5\u0323', 'precomposed then a lower class mark'), ('q\u0307\u0323', 'reorder, no composite'),
    ('s\u0307\u0323', 'reorder then compose twice'), ('\u1E69', 'two-level decomposition'),
    ('a\u0308\u0301\u0323\u0300', 'several marks'), ('a\u0301\u0301', 'equal classes block'),
    ('a\u05B0\u0301', 'unrelated mark of lower class does not block'), ('a\u0315\u0300', 'ccc 232 then 230'),
    ('a\u0316\u0301\u0300', '220 230 230'), ('A\u030A\u0301', 'ring then acute onto a'),
    ('\u212B', 'singleton Angstrom'), ('\u2126', 'singleton Ohm'), ('\u212A', 'singleton Kelvin'),
    ('\u0958', 'composition exclusion'), ('\u0915\u093C', 'excluded composite stays decomposed'),
    ('\u0344', 'non-starter decomposition'), ('\u0340\u0341\u0343', 'singleton marks'),
    ('\u0F73', 'non-starter decomposition Tibetan'), ('\u0F71\u0F72', 'no recomposition to 0F73'),
    ('\u1100\u1161', 'Hangul L+V'), ('\u1100\u1161\u11A8', 'Hangul L+V+T'), ('\uAC00\u11A8', 'Hangul LV+T'),
    ('\uAC01\u11A8', 'Hangul LVT+T does not compose'), ('\u1100\u1100\u1161', 'Hangul L+L+V'),
    ('\u1100\u0301\u1161', 'Hangul blocked by a mark'), ('\u1113\u1161', 'archaic L does not compose'),
    ('\u1100\u1176', 'archaic V does not compose'), ('\uAC00\u11A7', 'TBase itself is not a T'),
    ('\uAC00\u11C3', 'beyond the last T'), ('\u1161\u11A8', 'V+T without L'), ('\uD7A3', 'last syllable'),
    ('\u0B47\u0B3E', 'two starters compose'), ('\u0B47\u0300\u0B3E', 'starter pair blocked'),
    ('\u0CC6\u0CC2\u0CD5', 'Kannada chain'), ('\u0DD9\u0DCF\u0DCA', 'Sinhala chain'),
    ('\u1025\u102E', 'Myanmar'), ('\u0301', 'lone mark'), ('\u0301e', 'mark then letter'),
    ('\u0301\u0323', 'leading marks reordered'), ('\u0300\u0300a\u0300', 'leading marks then compose'),
    ('\U0001D15E', 'supplementary singleton-free decomposition'), ('\U0001D160', 'supplementary two-level'),
    ('\U0001D157\U0001D165', 'excluded supplementary composite'), ('\U00011099\U000110BA', 'Kaithi composes'),
    ('\U0002F800', 'CJK compatibility ideograph'), ('\uFA10', 'BMP CJK compatibility ideograph'),
    ('\U00011131\U00011127', 'Chakma composes'), ('\U00011347\U0001133E', 'Grantha composes'),
    ('\ud800\u0301', 'lone high surrogate blocks'), ('e\udc00\u0301', 'lone low surrogate between'),
    ('e\u0301\ud800', 'lone surrogate at the end'), ('\udc00\ud800', 'reversed pair'),
    ('\U0001F600e\u0301', 'emoji before'), ('caf\u00E9 cafe\u0301 \uFB2C \u1E9B\u0323', 'mixed'),
    ('\u00C5\u0301\u212B\u0301', 'singleton then compose'), ('\u03D3\u0301', 'Greek with hook'),
    ('\u1FEE', 'Greek dialytika oxia'), ('\u0399\u0308\u0301', 'Greek'), ('\u1F00\u0345\u0301', 'iota subscript last'),
]
for s, note in tricky:
    add(s, note)
for l in range(19):
    for v in range(21):
        add(chr(0x1100 + l) + chr(0x1161 + v), 'Hangul L+V')
        t = (l * 21 + v) % 28
        add(chr(0x1100 + l) + chr(0x1161 + v) + chr(0x11A7 + t), 'Hangul L+V+T')
for s in range(0xAC00, 0xD7A4, 97):
    add(chr(s), 'Hangul syllable')
    add(chr(s) + chr(0x11A8 + s % 27), 'Hangul syllable + T')

# (c) Random strings of base letters and marks, some with long stable runs between.
rng = random.Random(20261125)
marks = [cp for cp in interesting if unicodedata.combining(chr(cp))]
composites = [cp for cp in interesting if unicodedata.decomposition(chr(cp))]
bases = [ord(c) for c in 'aeiouAEIOUcnsyzwgk\u03B1\u03B9\u03C9\u0415\u0418\u0915\u0B47\u0CC6\u05D0 ']
starters_that_combine = [0x0B3E, 0x0CD5, 0x0DCF, 0x102E, 0x0CC2, 0x1161, 0x116E, 0x11A8, 0x11AF, 0x1100, 0x1109, 0xAC00]
common_marks = [0x0300, 0x0301, 0x0302, 0x0303, 0x0304, 0x0306, 0x0307, 0x0308, 0x030A, 0x030C, 0x0323, 0x0327, 0x0328,
                0x031B, 0x0345, 0x05B0, 0x093C, 0x0315, 0x0316, 0x034F]
for n in range(400):
    parts = []
    for _ in range(rng.randint(1, 12)):
        k = rng.random()
        pool = (bases if k < 0.3 else common_marks if k < 0.6 else marks if k < 0.75 else
                composites if k < 0.9 else starters_that_combine)
        parts.append(chr(rng.choice(pool)))
        if rng.random() < 0.05:
            parts.append('plain ascii run ' * rng.randint(1, 4))
        if rng.random() < 0.02:
            parts.append(chr(rng.choice([0xD800, 0xDBFF, 0xDC00, 0xDFFF])))
    add(''.join(parts), 'random')

print('\n'.join(lines))
