#!/usr/bin/python3
"""Writes tests/data/reference-lbp.json: OpenCV's detections with the LBP
frontal-face cascade on the shared gray images, for test-cascade-reference.

Run once with Debian's python3-opencv (4.6.0):
  /usr/bin/python3 tests/data/make_lbp_reference.py ../shared/media tests/data/reference-lbp.json

The parameter sets and the image layout are those of
../shared/media/reference.json (images[name].detections[key] = sorted
[x, y, w, h] lists); the images are the exact gray PNGs under gray/.
"""
import hashlib
import json
import os
import sys

import cv2

CASCADE = '/usr/share/opencv4/lbpcascades/lbpcascade_frontalface_improved.xml'


def main():
    media, out_path = sys.argv[1], sys.argv[2]
    ref = json.load(open(os.path.join(media, 'reference.json')))
    clf = cv2.CascadeClassifier(CASCADE)
    assert not clf.empty()
    images = {}
    for name in sorted(ref['images']):
        gray_path = os.path.join(media, 'gray', os.path.splitext(name)[0] + '.png')
        gray = cv2.imread(gray_path, cv2.IMREAD_UNCHANGED)
        assert gray is not None and gray.ndim == 2, gray_path
        digest = hashlib.sha256(gray.tobytes()).hexdigest()
        assert digest == ref['images'][name]['gray_sha256'], name
        dets = {}
        for key, p in ref['params'].items():
            rects = clf.detectMultiScale(gray, scaleFactor=p['scaleFactor'],
                                         minNeighbors=p['minNeighbors'], flags=p['flags'],
                                         minSize=tuple(p['minSize']))
            dets[key] = sorted(([int(v) for v in r] for r in rects),
                               key=lambda r: (r[1], r[0], r[2], r[3]))
        images[name] = {'width': int(gray.shape[1]), 'height': int(gray.shape[0]),
                        'gray_sha256': digest, 'detections': dets}
    doc = {
        'format': ref['format'],
        'how': 'gray = the PNG under gray/ (the exact detectMultiScale input of reference.json); '
               'cv2.CascadeClassifier(cascade).detectMultiScale(gray, scaleFactor, minNeighbors, '
               'flags, minSize) with the parameter sets of reference.json; made by '
               'tests/data/make_lbp_reference.py',
        'opencv_version': cv2.__version__,
        'cascade': CASCADE,
        'cascade_sha256': hashlib.sha256(open(CASCADE, 'rb').read()).hexdigest(),
        'params': ref['params'],
        'images': images,
    }
    with open(out_path, 'w') as f:
        json.dump(doc, f, indent=1, sort_keys=False)
        f.write('\n')


if __name__ == '__main__':
    main()
