//! A deterministic byte pattern and a streaming checksum.
//!
//! The byte at offset `i` of every generated body is `(i % 251) as u8`. The
//! period (a prime) does not line up with usual chunk sizes, so a dropped,
//! duplicated or reordered chunk changes the checksum. Both the
//! [`upstream`](crate::upstream) server and the [`client`](crate::client)
//! helpers use this module, which lets a test check a body of any size
//! without keeping it in memory.

use bytes::Bytes;

/// Period of the pattern, in bytes.
pub const PERIOD: usize = 251;

/// One period of the pattern, starting at offset 0.
fn period() -> &'static [u8; PERIOD] {
    static TABLE: std::sync::OnceLock<[u8; PERIOD]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [0u8; PERIOD];
        for (i, b) in t.iter_mut().enumerate() {
            *b = i as u8;
        }
        t
    })
}

/// Fills `buf` with the pattern bytes for offsets `offset..offset + buf.len()`.
pub fn fill(offset: u64, buf: &mut [u8]) {
    let table = period();
    let mut pos = (offset % PERIOD as u64) as usize;
    let mut out = 0;
    while out < buf.len() {
        let n = (PERIOD - pos).min(buf.len() - out);
        buf[out..out + n].copy_from_slice(&table[pos..pos + n]);
        out += n;
        pos = 0;
    }
}

/// Returns `len` pattern bytes starting at `offset`.
pub fn chunk(offset: u64, len: usize) -> Bytes {
    let mut v = vec![0u8; len];
    fill(offset, &mut v);
    Bytes::from(v)
}

/// The checksum (as [`Checksum::hex`]) of the first `len` bytes of the pattern.
pub fn checksum(len: u64) -> String {
    let mut sum = Checksum::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut offset = 0u64;
    while offset < len {
        let n = ((len - offset) as usize).min(buf.len());
        fill(offset, &mut buf[..n]);
        sum.update(&buf[..n]);
        offset += n as u64;
    }
    sum.hex()
}

/// A streaming, order-sensitive checksum with a byte counter.
///
/// It combines eight interleaved FNV-1a lanes (byte `i` feeds lane `i % 8`),
/// which is quick even without optimisations and does not depend on how the
/// input is split into chunks. Not cryptographic: it only detects accidents.
#[derive(Debug, Clone)]
pub struct Checksum {
    lanes: [u64; 8],
    len: u64,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl Default for Checksum {
    fn default() -> Self {
        Self::new()
    }
}

impl Checksum {
    /// A checksum of nothing.
    pub fn new() -> Self {
        Self {
            lanes: [FNV_OFFSET; 8],
            len: 0,
        }
    }

    /// Feeds more bytes.
    pub fn update(&mut self, data: &[u8]) {
        let mut data = data;
        // Bring the lane position back to 0 so that the 8-byte loop applies.
        while !data.is_empty() && !self.len.is_multiple_of(8) {
            let lane = (self.len % 8) as usize;
            self.lanes[lane] = (self.lanes[lane] ^ u64::from(data[0])).wrapping_mul(FNV_PRIME);
            self.len += 1;
            data = &data[1..];
        }
        let mut words = data.chunks_exact(8);
        let mut l = self.lanes;
        for w in &mut words {
            l[0] = (l[0] ^ u64::from(w[0])).wrapping_mul(FNV_PRIME);
            l[1] = (l[1] ^ u64::from(w[1])).wrapping_mul(FNV_PRIME);
            l[2] = (l[2] ^ u64::from(w[2])).wrapping_mul(FNV_PRIME);
            l[3] = (l[3] ^ u64::from(w[3])).wrapping_mul(FNV_PRIME);
            l[4] = (l[4] ^ u64::from(w[4])).wrapping_mul(FNV_PRIME);
            l[5] = (l[5] ^ u64::from(w[5])).wrapping_mul(FNV_PRIME);
            l[6] = (l[6] ^ u64::from(w[6])).wrapping_mul(FNV_PRIME);
            l[7] = (l[7] ^ u64::from(w[7])).wrapping_mul(FNV_PRIME);
        }
        self.lanes = l;
        self.len += (data.len() - words.remainder().len()) as u64;
        for &b in words.remainder() {
            let lane = (self.len % 8) as usize;
            self.lanes[lane] = (self.lanes[lane] ^ u64::from(b)).wrapping_mul(FNV_PRIME);
            self.len += 1;
        }
    }

    /// Number of bytes fed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when no byte was fed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The checksum value (lanes folded together with the length).
    pub fn value(&self) -> u64 {
        let mut h = FNV_OFFSET ^ self.len;
        for lane in self.lanes {
            h = (h ^ lane).wrapping_mul(FNV_PRIME).rotate_left(29);
        }
        h
    }

    /// The checksum as 16 lowercase hex digits (the form the upstream reports).
    pub fn hex(&self) -> String {
        format!("{:016x}", self.value())
    }
}

/// The checksum of `data` as 16 hex digits.
pub fn checksum_of(data: &[u8]) -> String {
    let mut c = Checksum::new();
    c.update(data);
    c.hex()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_is_offset_consistent() {
        let whole = chunk(0, 5000);
        for (i, b) in whole.iter().enumerate() {
            assert_eq!(*b, (i % PERIOD) as u8);
        }
        let tail = chunk(1234, 1000);
        assert_eq!(&whole[1234..2234], &tail[..]);
    }

    #[test]
    fn checksum_ignores_chunking() {
        let data = chunk(0, 100_000);
        let one = checksum_of(&data);
        let mut c = Checksum::new();
        for piece in data.chunks(7) {
            c.update(piece);
        }
        assert_eq!(c.hex(), one);
        assert_eq!(c.len(), 100_000);
        assert_eq!(checksum(100_000), one);
    }

    #[test]
    fn checksum_detects_changes() {
        let a = chunk(0, 4096);
        let mut b = a.to_vec();
        b.swap(10, 20);
        assert_ne!(checksum_of(&a), checksum_of(&b));
        assert_ne!(checksum_of(&a), checksum_of(&a[..4095]));
        assert_ne!(checksum_of(b""), checksum_of(b"\0"));
    }
}
