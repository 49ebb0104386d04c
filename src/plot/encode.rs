//! PNG files of the chart bitmaps, through the `png` crate (zlib at its default level). Only the
//! drawing backend is our own (src/plot/canvas.rs, for plotters' text rendering); the file
//! format is the library's. No time chunk or other ancillary chunk is written, so the bytes
//! depend only on the pixels, which the byte-identical output of a run relies on.

/// PNG bytes of `pixels` (RGB8, `width` × `height`, rows top to bottom).
pub fn png_rgb(pixels: &[u8], width: u32, height: u32) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Balanced);
        // Adaptive filtering: each row gets the filter that suits it (charts are flat areas).
        encoder.set_filter(png::Filter::Adaptive);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(pixels)?;
        writer.finish()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A decoder other than ours reads back exactly the pixels written.
    #[test]
    fn round_trips_through_the_png_decoder() {
        let (w, h) = (37u32, 23u32);
        let pixels: Vec<u8> = (0..w * h * 3)
            .map(|i| {
                if (i / 3) % 7 < 3 {
                    255
                } else {
                    (i % 251) as u8
                }
            })
            .collect();
        let bytes = png_rgb(&pixels, w, h).expect("encodes");
        let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
        let mut reader = decoder.read_info().expect("header");
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("frame");
        assert_eq!((info.width, info.height), (w, h));
        assert_eq!(&buf[..info.buffer_size()], &pixels[..]);
        assert_eq!(
            png_rgb(&pixels, w, h).expect("encodes"),
            bytes,
            "deterministic"
        );
    }
}
