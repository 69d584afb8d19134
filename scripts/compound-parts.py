#!/usr/bin/env python3
"""Writes crates/torg-domain/data/compound-parts.txt: the words that begin or end compounds in
the Debian word lists (wnorwegian 2.2: bokmål and nynorsk; wswedish), which the search's text
analysis splits compound words against. A word is kept when it ends at least two listed
words whose other part is a word too, or begins at least three. The lists are GPL-2-or-later,
which Torg's AGPL-3.0-or-later may carry.

    apt-get install wnorwegian wswedish && python3 scripts/compound-parts.py
"""
import sys, collections
def load(p):
    out=set()
    for line in open(p, encoding='latin-1'):
        w=line.strip()
        if w and w.isalpha() and w.islower() and len(w)>=3:
            out.add(w)
    return out
all_parts=set()
for lang,paths in [('nb',['/usr/share/dict/bokmaal','/usr/share/dict/nynorsk']),('sv',['/usr/share/dict/swedish'])]:
    words=set()
    for p in paths: words|=load(p)
    heads=collections.Counter(); tails=collections.Counter()
    for w in words:
        n=len(w)
        if n<7: continue
        for i in range(3,n-3):
            h=w[:i]; t=w[i:]
            if t in words:
                hh = h if h in words else (h[:-1] if h[-1] in 'se' and h[:-1] in words and len(h)>3 else None)
                if hh:
                    heads[hh]+=1; tails[t]+=1
    print(lang, len(words), len(heads), len(tails), file=sys.stderr)
    parts={w for w,c in heads.items() if c>=3} | {w for w,c in tails.items() if c>=2}
    print(lang, 'parts', len(parts), sum(len(p)+1 for p in parts), file=sys.stderr)
    all_parts.update(parts)
open('crates/torg-domain/data/compound-parts.txt','w').write('\n'.join(sorted(all_parts))+'\n')
