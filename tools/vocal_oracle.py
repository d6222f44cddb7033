#!/usr/bin/env python3
"""Ideal-mask ceiling of vocal note F1: how well the vocals could be transcribed from a stem made
by the best possible soft mask at a given STFT size.

For each corpus song with a singer, the ideal Wiener mask |V|^2 / (|V|^2 + |R|^2) is computed
from the truth vocal stem V and the rest R = mix - V (mono, scipy STFT, Hann, 75 % overlap),
applied to the mix, and the masked signal is transcribed with `auralis transcribe --role vocals`.
Note F1 is scored as `auralis eval` scores it (onset within 50 ms, exact pitch).

Usage: VENV/bin/python tools/vocal_oracle.py CORPUS WINDOWS [AURALIS]
  WINDOWS: comma-separated STFT sizes, e.g. 8192,2048 (8192 is the embedded separator's at 44.1 kHz)
  AURALIS: the binary (default target/release/auralis)
Needs numpy, scipy, soundfile and pretty_midi (the Basic Pitch reference venv has them).
"""
import sys, glob, os, subprocess, tempfile, numpy as np, soundfile as sf, pretty_midi, scipy.signal as ss
corpus=sys.argv[1]; wins=[int(x) for x in sys.argv[2].split(',')]
binary=sys.argv[3] if len(sys.argv)>3 else 'target/release/auralis'
tmp=tempfile.mkdtemp()
wav=os.path.join(tmp,'masked.wav'); mid=os.path.join(tmp,'masked.mid')
def f1(ref, est, tol=0.05):
    used=set(); h=0
    for a,b,p in est:
        for i,(ra,rb,rp) in enumerate(ref):
            if i not in used and rp==p and abs(ra-a)<=tol: used.add(i); h+=1; break
    P=h/max(len(est),1); R=h/max(len(ref),1); return 2*P*R/max(P+R,1e-9)
res={w:[] for w in wins}
for d in sorted(glob.glob(corpus+'/*/')):
    n=os.path.basename(d[:-1]); t=d+'midi/vocals.mid'
    if not os.path.exists(t): continue
    mix,sr=sf.read(d+'mix.wav'); v,_=sf.read(d+'stems/vocals.flac')
    mixm=mix.mean(1); vm=v.mean(1); rm=mixm-vm
    m=pretty_midi.PrettyMIDI(t); ref=sorted((x.start,x.end,x.pitch) for i in m.instruments for x in i.notes)
    row=[]
    for w in wins:
        _,_,M=ss.stft(mixm,nperseg=w,noverlap=w*3//4); _,_,V=ss.stft(vm,nperseg=w,noverlap=w*3//4); _,_,R=ss.stft(rm,nperseg=w,noverlap=w*3//4)
        mask=np.abs(V)**2/(np.abs(V)**2+np.abs(R)**2+1e-12)
        _,y=ss.istft(M*mask,nperseg=w,noverlap=w*3//4); y=y[:len(mixm)]
        sdr=10*np.log10(np.sum(vm**2)/np.sum((vm-y)**2))
        sf.write(wav,y.astype(np.float32),sr)
        subprocess.run([binary,'transcribe',wav,'--role','vocals','-o',mid],check=True,capture_output=True)
        m2=pretty_midi.PrettyMIDI(mid); est=[(x.start,x.end,x.pitch) for i in m2.instruments for x in i.notes]
        f=f1(ref,est); res[w].append(f); row.append('w%d sdr %.1f F %.3f'%(w,sdr,f))
    print(n[:16],' | '.join(row),flush=True)
print('mean',' '.join('w%d %.3f'%(w,np.mean(res[w])) for w in wins))
