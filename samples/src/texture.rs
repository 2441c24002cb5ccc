//! Small procedural textures, encoded as PNG so they embed in a GLB like an artist's would.

/// A `size`x`size` RGB checkerboard of `squares` squares a side, alternating `a` and `b`.
pub fn checker_png(size: u32, squares: u32, a: [u8; 3], b: [u8; 3]) -> Vec<u8> {
    let cell = (size / squares).max(1);
    let pixels: Vec<u8> = (0..size)
        .flat_map(|y| (0..size).map(move |x| (x, y)))
        .flat_map(|(x, y)| if (x / cell + y / cell) & 1 == 0 { a } else { b })
        .collect();
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, size, size);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // In-memory writes cannot fail; the data length matches the header by construction.
    let mut writer = encoder.write_header().expect("PNG header into a Vec");
    writer.write_image_data(&pixels).expect("PNG data into a Vec");
    writer.finish().expect("PNG end into a Vec");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checker_decodes_with_alternating_squares() {
        let bytes = checker_png(64, 8, [255, 0, 0], [0, 0, 255]);
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height, info.color_type), (64, 64, png::ColorType::Rgb));
        let at = |x: usize, y: usize| &buf[(y * 64 + x) * 3..][..3];
        assert_eq!(at(0, 0), [255, 0, 0]);
        assert_eq!(at(8, 0), [0, 0, 255]);
        assert_eq!(at(8, 8), [255, 0, 0]);
        assert_eq!(at(63, 0), [0, 0, 255]);
    }
}
