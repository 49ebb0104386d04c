//! A small PNG encoder for chart bitmaps (RGB8, no ancillary chunks).
//!
//! Charts are flat colour areas. A row equal to the one above is written with the Up filter,
//! any other with the Sub filter, so nearly every byte becomes zero; a greedy LZ77 (distances:
//! the previous byte and the row above) with DEFLATE's fixed Huffman codes then compresses them
//! about as well as a general-purpose deflate. Runs are found by slice comparisons (memcmp) and
//! zero runs are summed in O(1), so the encoder stays fast in debug builds, where the test
//! suite draws the charts of every run it makes. The bytes depend only on the pixels (no time
//! chunk, no library version), which the byte-identical output of a run relies on.

/// PNG bytes of `pixels` (RGB8, `width` × `height`, rows top to bottom).
pub fn png_rgb(pixels: &[u8], width: u32, height: u32) -> Vec<u8> {
    let stride = width as usize * 3;
    let raw = filter(pixels, stride, height as usize);
    let mut zlib = vec![0x78, 0x01];
    zlib.extend(deflate_fixed(&raw, stride + 1));
    zlib.extend(adler32(&raw).to_be_bytes());

    let mut out = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    // Bit depth 8, colour type 2 (RGB), compression 0, filter method 0, no interlace.
    ihdr.extend([8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// The filtered scanlines: each row is a filter byte then the row, Up (2) when it equals the
/// row above (all zeros), else Sub (1: each byte minus the byte 3 before it).
fn filter(pixels: &[u8], stride: usize, height: usize) -> Vec<u8> {
    const STEP: usize = 48;
    let mut raw = vec![0u8; (stride + 1) * height];
    let mut prev: Option<&[u8]> = None;
    for (y, row) in pixels.chunks_exact(stride.max(1)).take(height).enumerate() {
        let out = &mut raw[y * (stride + 1)..(y + 1) * (stride + 1)];
        if prev == Some(row) {
            out[0] = 2;
        } else {
            out[0] = 1;
            let out = &mut out[1..];
            let head = stride.min(3);
            out[..head].copy_from_slice(&row[..head]);
            let mut i = head;
            while i < stride {
                let end = (i + STEP).min(stride);
                // Runs of one colour leave zeros, which the buffer already holds.
                if row[i..end] != row[i - 3..end - 3] {
                    for k in i..end {
                        out[k] = row[k].wrapping_sub(row[k - 3]);
                    }
                }
                i = end;
            }
        }
        prev = Some(row);
    }
    raw
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend(crc.to_be_bytes());
}

pub fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (n, slot) in t.iter_mut().enumerate() {
            let mut c = n as u32;
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        t
    });
    let mut c = 0xffff_ffffu32;
    for &b in data {
        c = table[((c ^ u32::from(b)) & 0xff) as usize] ^ (c >> 8);
    }
    c ^ 0xffff_ffff
}

pub fn adler32(data: &[u8]) -> u32 {
    const MOD: u64 = 65_521;
    const ZEROS: [u8; 64] = [0; 64];
    let (mut a, mut b) = (1u64, 0u64);
    // A block of zeros leaves `a` as it is and adds 64·a to `b`: filtered charts are mostly
    // zeros, so most of the data is summed a block at a time.
    for block in data.chunks(4096) {
        for part in block.chunks(64) {
            if part == &ZEROS[..part.len()] {
                b += part.len() as u64 * a;
            } else {
                for &x in part {
                    a += u64::from(x);
                    b += a;
                }
            }
        }
        a %= MOD;
        b %= MOD;
    }
    ((b << 16) | a) as u32
}

/// LSB-first bit writer.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u32, bits: u32) {
        self.acc |= u64::from(value) << self.n;
        self.n += bits;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code, which DEFLATE stores most significant bit first.
    fn code(&mut self, code: u32, bits: u32) {
        self.put(code.reverse_bits() >> (32 - bits), bits);
    }

    fn literal(&mut self, sym: u32) {
        let (code, bits) = fixed_codes()[sym as usize];
        self.put(code, bits);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// The fixed literal/length codes (RFC 1951 3.2.6), bit-reversed for the LSB-first stream.
fn fixed_codes() -> &'static [(u32, u32); 288] {
    static CODES: std::sync::OnceLock<[(u32, u32); 288]> = std::sync::OnceLock::new();
    CODES.get_or_init(|| {
        let mut t = [(0, 0); 288];
        for (sym, slot) in (0u32..).zip(t.iter_mut()) {
            let (code, bits) = match sym {
                0..=143 => (0x30 + sym, 8),
                144..=255 => (0x190 + sym - 144, 9),
                256..=279 => (sym - 256, 7),
                _ => (0xc0 + sym - 280, 8),
            };
            *slot = (code.reverse_bits() >> (32 - bits), bits);
        }
        t
    })
}

const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
const MAX_MATCH: usize = 258;
const MAX_DIST: usize = 32_768;

/// Length of the match of `data[i..]` against `data[i - dist..]`, at most 258.
fn match_len(data: &[u8], i: usize, dist: usize) -> usize {
    let max = MAX_MATCH.min(data.len() - i);
    let (a, b) = (&data[i..i + max], &data[i - dist..i - dist + max]);
    if max < 3 || a[..3] != b[..3] {
        return 0;
    }
    // Whole-window equality first: long runs (most of a chart) cost one memcmp; then
    // 16 bytes at a time, then bytes.
    if a == b {
        return max;
    }
    let mut n = 3;
    while n + 16 <= max && a[n..n + 16] == b[n..n + 16] {
        n += 16;
    }
    while n < max && a[n] == b[n] {
        n += 1;
    }
    n
}

/// One final DEFLATE block with fixed Huffman codes.
fn deflate_fixed(data: &[u8], row: usize) -> Vec<u8> {
    let mut bits = Bits {
        out: Vec::with_capacity(data.len() / 16 + 64),
        acc: 0,
        n: 0,
    };
    bits.put(1, 1); // BFINAL
    bits.put(1, 2); // BTYPE = 01, fixed Huffman
    let mut i = 0;
    while i < data.len() {
        let mut best = (0, 0);
        for dist in [1, row] {
            // Three bytes compared in place before any slicing: most literals stop here.
            let worth = dist <= i
                && dist <= MAX_DIST
                && i + 2 < data.len()
                && data[i] == data[i - dist]
                && data[i + 1] == data[i + 1 - dist]
                && data[i + 2] == data[i + 2 - dist];
            if worth {
                let n = match_len(data, i, dist);
                if n > best.0 {
                    best = (n, dist);
                }
            }
        }
        let (len, dist) = best;
        if len < 3 {
            bits.literal(u32::from(data[i]));
            i += 1;
            continue;
        }
        let l = LEN_BASE.partition_point(|&b| usize::from(b) <= len) - 1;
        bits.literal(257 + l as u32);
        bits.put(
            (len - usize::from(LEN_BASE[l])) as u32,
            u32::from(LEN_EXTRA[l]),
        );
        let d = DIST_BASE.partition_point(|&b| usize::from(b) <= dist) - 1;
        bits.code(d as u32, 5);
        bits.put(
            (dist - usize::from(DIST_BASE[d])) as u32,
            u32::from(DIST_EXTRA[d]),
        );
        i += len;
    }
    bits.literal(256);
    bits.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal inflate for fixed-Huffman blocks: enough to read back what this encoder
    /// writes.
    fn inflate_fixed(data: &[u8]) -> Vec<u8> {
        let mut pos = 0usize; // bit position
        let mut bit = |n: u32| -> u32 {
            let mut v = 0;
            for k in 0..n {
                let b = (data[pos / 8] >> (pos % 8)) & 1;
                v |= u32::from(b) << k;
                pos += 1;
            }
            v
        };
        assert_eq!(bit(1), 1, "final block");
        assert_eq!(bit(2), 1, "fixed Huffman");
        let mut out: Vec<u8> = Vec::new();
        loop {
            // Read a Huffman code MSB first, 7 to 9 bits.
            let mut code = 0u32;
            let mut len = 0;
            let sym = loop {
                code = (code << 1) | bit(1);
                len += 1;
                match len {
                    7 if code <= 0x17 => break code + 256,
                    8 if (0x30..=0xbf).contains(&code) => break code - 0x30,
                    8 if (0xc0..=0xc7).contains(&code) => break code - 0xc0 + 280,
                    9 if code >= 0x190 => break code - 0x190 + 144,
                    _ => assert!(len < 9, "bad code"),
                }
            };
            match sym {
                0..=255 => out.push(sym as u8),
                256 => return out,
                _ => {
                    let l = (sym - 257) as usize;
                    let len = usize::from(LEN_BASE[l]) + bit(u32::from(LEN_EXTRA[l])) as usize;
                    let mut d = 0u32;
                    for _ in 0..5 {
                        d = (d << 1) | bit(1);
                    }
                    let d = d as usize;
                    let dist = usize::from(DIST_BASE[d]) + bit(u32::from(DIST_EXTRA[d])) as usize;
                    for _ in 0..len {
                        out.push(out[out.len() - dist]);
                    }
                }
            }
        }
    }

    /// PNG's reconstruction of Sub and Up rows.
    fn unfilter(raw: &[u8], stride: usize) -> Vec<u8> {
        let mut out: Vec<u8> = Vec::new();
        for (y, row) in raw.chunks_exact(stride + 1).enumerate() {
            for i in 0..stride {
                let x = row[1 + i];
                let v = match row[0] {
                    0 => x,
                    1 if i >= 3 => x.wrapping_add(out[y * stride + i - 3]),
                    1 => x,
                    2 if y > 0 => x.wrapping_add(out[(y - 1) * stride + i]),
                    2 => x,
                    f => panic!("filter {f}"),
                };
                out.push(v);
            }
        }
        out
    }

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
        let mut big = vec![0u8; 100_000];
        big[5_000..9_000].fill(255);
        big[70_001] = 3;
        // Reference: the same sums one byte at a time.
        let (mut a, mut b) = (1u32, 0u32);
        for &x in &big {
            a = (a + u32::from(x)) % 65_521;
            b = (b + a) % 65_521;
        }
        assert_eq!(adler32(&big), (b << 16) | a);
    }

    #[test]
    fn deflate_round_trips() {
        let (w, h) = (37usize, 23usize);
        let mut px = vec![255u8; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                let i = (y * w + x) * 3;
                if (x / 5 + y / 3) % 3 == 0 {
                    px[i..i + 3].copy_from_slice(&[(x * 7) as u8, (y / 3 * 11) as u8, 3]);
                }
            }
        }
        let raw = filter(&px, w * 3, h);
        assert_eq!(inflate_fixed(&deflate_fixed(&raw, w * 3 + 1)), raw);
        assert_eq!(unfilter(&raw, w * 3), px);
        let png = png_rgb(&px, w as u32, h as u32);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(
            u32::from_be_bytes([png[16], png[17], png[18], png[19]]),
            w as u32
        );
    }
}
