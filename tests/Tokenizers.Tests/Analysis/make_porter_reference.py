# Writes Fixtures/porter-1980.tsv: words and their stems by NLTK's PorterStemmer in ORIGINAL_ALGORITHM mode,
# the algorithm as published in 1980 (without the 'bli' and 'logi' rules Porter later added to his C version).
# Words: whole words of the BERT uncased vocabulary, and the same words with common suffixes added so that
# every rule of steps 1 to 5 is reached. Our stemmer keeps words of one or two letters, so those are left out.
# Usage: python3 make_porter_reference.py shared/data/bert-base-uncased/vocab.txt > Fixtures/porter-1980.tsv
# Needs nltk (Debian: apt-get install python3-nltk).
import re, sys
from nltk.stem.porter import PorterStemmer

original = PorterStemmer(mode=PorterStemmer.ORIGINAL_ALGORITHM)
martin = PorterStemmer(mode=PorterStemmer.MARTIN_EXTENSIONS)

vocab = sorted({w for w in (l.strip() for l in open(sys.argv[1], encoding='utf-8')) if re.fullmatch('[a-z]{3,}', w)})
suffixes = ['s', 'es', 'ies', 'ed', 'ing', 'ly', 'bly', 'ness', 'ation', 'ational', 'izer', 'ization', 'ful',
            'fulness', 'ism', 'ity', 'iveness', 'ously', 'ally', 'ability', 'ibly', 'ably', 'ology', 'logy', 'ement',
            'ment', 'ent', 'ence', 'ance', 'ancy', 'ency', 'ant', 'ous', 'ive', 'ize', 'ate', 'ative', 'alize',
            'icity', 'ical', 'er', 'ers', 'ions', 'll', 'e', 'y']

words = set(vocab[::20])
words.update(w + s for w in vocab[::300] for s in suffixes)
# Where the 1980 paper and Porter's later C version disagree: the rules this fixture pins down.
words.update(w for w in vocab if original.stem(w) != martin.stem(w))

print('# word\tstem (NLTK PorterStemmer, ORIGINAL_ALGORITHM); made by make_porter_reference.py')
for w in sorted(words):
    print(f'{w}\t{original.stem(w)}')
