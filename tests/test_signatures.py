import numpy as np

from udw.dedupe.signatures import correlation, dhash, grey_thumb, hamming, phash


def scene(seed, shift=0):
    """Flat-colour blocks (cel-like), optionally shifted right by `shift` pixels."""
    rng = np.random.default_rng(seed)
    img = np.zeros((180, 320, 3), np.uint8)
    for _ in range(12):
        x, y = rng.integers(0, 280), rng.integers(0, 150)
        img[y:y + rng.integers(10, 60), x:x + rng.integers(10, 80)] = rng.integers(0, 255, 3)
    return np.roll(img, shift, axis=1)


def test_thumb_correlation_separates_near_and_different():
    a, near, other = scene(1), scene(1, shift=2), scene(2)
    ta, tn, to = grey_thumb(a), grey_thumb(near), grey_thumb(other)
    assert abs(np.linalg.norm(ta) - 1) < 1e-5
    assert correlation(ta, tn) > 0.9 > correlation(ta, to)
    brighter = np.clip(a.astype(int) * 0.8 + 30, 0, 255).astype(np.uint8)
    assert correlation(ta, grey_thumb(brighter)) > 0.99  # exposure change does not matter


def test_flat_image_thumb_is_zero_not_nan():
    t = grey_thumb(np.full((50, 50, 3), 128, np.uint8))
    assert np.all(t == 0)


def test_hashes_and_hamming():
    a, near, other = scene(1), scene(1, shift=1), scene(3)
    for h in (dhash, phash):
        assert hamming(h(a), h(a)) == 0
        assert hamming(h(a), h(near)) < hamming(h(a), h(other))
    hs = np.array([phash(a), phash(other)], dtype=np.uint64)
    assert hamming(hs, phash(a)).tolist() == [0, int(hamming(phash(other), phash(a)))]
    assert hamming(np.uint64(0), np.uint64(2**64 - 1)) == 64
