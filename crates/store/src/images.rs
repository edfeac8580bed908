//! Uploaded images are never stored or served as sent: the type is taken from the content,
//! decoding is bounded (no decompression bombs), and the picture is re-encoded, which drops
//! EXIF/GPS and anything hidden in the file.

use image::{ImageFormat, ImageReader, Limits};
use std::io::Cursor;

#[derive(Debug, PartialEq, Eq)]
pub enum ImageError {
    /// Not a PNG, JPEG or WebP by its content.
    UnsupportedType,
    TooLarge,
    /// Truncated or corrupt.
    Broken,
}

impl ImageError {
    /// Translation key for the form.
    pub fn key(&self) -> &'static str {
        match self {
            ImageError::UnsupportedType => "err.image_type",
            ImageError::TooLarge => "err.image_too_large",
            ImageError::Broken => "err.image_broken",
        }
    }
}

pub struct Bounds {
    pub max_bytes: usize,
    /// Largest accepted width and height of the uploaded picture, in pixels.
    pub max_pixels: u32,
}

/// Decodes within bounds and re-encodes as PNG, scaled to fit `fit` × `fit` pixels.
pub fn reencode_png(bytes: &[u8], b: &Bounds, fit: u32) -> Result<Vec<u8>, ImageError> {
    if bytes.len() > b.max_bytes {
        return Err(ImageError::TooLarge);
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| ImageError::Broken)?;
    match reader.format() {
        Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP) => {}
        _ => return Err(ImageError::UnsupportedType),
    }
    let mut reader = reader;
    let mut limits = Limits::default();
    limits.max_image_width = Some(b.max_pixels);
    limits.max_image_height = Some(b.max_pixels);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => ImageError::TooLarge,
        _ => ImageError::Broken,
    })?;
    let img = if img.width() > fit || img.height() > fit {
        img.thumbnail(fit, fit)
    } else {
        img
    };
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)
        .map_err(|_| ImageError::Broken)?;
    Ok(out.into_inner())
}

/// A photo after [`reencode_jpeg`]: nothing of the upload but its pixels survives.
pub struct Photo {
    /// JPEG bounded to `fit` × `fit` pixels.
    pub jpeg: Vec<u8>,
    /// JPEG bounded to `thumb` × `thumb` pixels.
    pub thumb: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// SHA-256 of `jpeg`, lower-case hex.
    pub sha256: String,
}

/// Opens an upload and checks what its header tells without decoding any pixel: at most
/// `b.max_bytes`, a PNG, JPEG or WebP by its content, a JPEG complete up to its end marker, and
/// dimensions within `b` and `max_alloc` bytes of decoded pixels. Returns the decoder (header
/// read) and whether the picture is a JPEG.
fn open_checked<'a>(
    bytes: &'a [u8],
    b: &Bounds,
    max_alloc: u64,
) -> Result<(impl image::ImageDecoder + 'a, bool), ImageError> {
    use image::ImageDecoder;
    if bytes.len() > b.max_bytes {
        return Err(ImageError::TooLarge);
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| ImageError::Broken)?;
    match reader.format() {
        Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP) => {}
        _ => return Err(ImageError::UnsupportedType),
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(b.max_pixels);
    limits.max_image_height = Some(b.max_pixels);
    limits.max_alloc = Some(max_alloc);
    reader.limits(limits);
    let is_jpeg = reader.format() == Some(ImageFormat::Jpeg);
    // The JPEG decoder fills a cut-off picture with grey instead of failing.
    if is_jpeg && !jpeg_complete(bytes) {
        return Err(ImageError::Broken);
    }
    let decoder = reader.into_decoder().map_err(limit_or_broken)?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 || w > b.max_pixels || h > b.max_pixels {
        return Err(ImageError::TooLarge);
    }
    if decoder.total_bytes() > max_alloc {
        return Err(ImageError::TooLarge);
    }
    Ok((decoder, is_jpeg))
}

fn limit_or_broken(e: image::ImageError) -> ImageError {
    match e {
        image::ImageError::Limits(_) => ImageError::TooLarge,
        _ => ImageError::Broken,
    }
}

/// The cheap checks of [`reencode_jpeg`] alone (size, type by content, a JPEG's completeness,
/// dimensions from the header), for accepting an upload before it is re-encoded in the
/// background; returns width and height. A picture that passes may still fail to decode.
pub fn check_header(bytes: &[u8], b: &Bounds, max_alloc: u64) -> Result<(u32, u32), ImageError> {
    use image::ImageDecoder;
    let (decoder, _) = open_checked(bytes, b, max_alloc)?;
    Ok(decoder.dimensions())
}

/// Decodes a PNG, JPEG or WebP (told by its content) within `b` and at most `max_alloc` bytes
/// of decoded pixels, turns it upright by its EXIF orientation, and re-encodes it as a baseline
/// JPEG of `quality` bounded to `fit` px plus a thumbnail bounded to `thumb` px. Transparency
/// is laid on white. The dimensions are checked from the header before any pixel buffer is
/// allocated, so a small file claiming 20,000 × 20,000 px costs nothing.
pub fn reencode_jpeg(
    bytes: &[u8],
    b: &Bounds,
    max_alloc: u64,
    fit: u32,
    thumb: u32,
    quality: u8,
) -> Result<Photo, ImageError> {
    use image::ImageDecoder;
    let (mut decoder, reader_is_jpeg) = open_checked(bytes, b, max_alloc)?;
    let (w, h) = decoder.dimensions();
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    // A phone photo (4000 × 3000) for a 1600 px box: decoded at half size in the IDCT, which
    // saves the colour conversion and three quarters of the pixel buffer.
    let scaled = if reader_is_jpeg && (w >= 2 * fit || h >= 2 * fit) {
        decode_jpeg_scaled(bytes, fit, max_alloc)
    } else {
        None
    };
    let mut img = match scaled {
        Some(img) => img,
        None => image::DynamicImage::from_decoder(decoder).map_err(limit_or_broken)?,
    };
    img.apply_orientation(orientation);
    let rgb = flatten_on_white(img);
    let rgb = shrink_to_fit(rgb, fit)?;
    let small = shrink_to_fit(rgb.clone(), thumb)?;
    let jpeg = jpeg_from_rgb(rgb.as_raw(), rgb.width(), rgb.height(), quality)?;
    let thumb = jpeg_from_rgb(small.as_raw(), small.width(), small.height(), quality)?;
    Ok(Photo {
        sha256: crate::sha256_hex_bytes(&jpeg),
        width: rgb.width(),
        height: rgb.height(),
        jpeg,
        thumb,
    })
}

/// Whether a JPEG's segments and scans run completely from SOI up to an EOI marker (data after
/// EOI is allowed). Embedded thumbnails inside APP segments are skipped by their length, so
/// their EOI does not count.
pub fn jpeg_complete(b: &[u8]) -> bool {
    if !b.starts_with(&[0xFF, 0xD8]) {
        return false;
    }
    let mut i = 2;
    loop {
        // Fill bytes before a marker.
        while i + 1 < b.len() && b[i] == 0xFF && b[i + 1] == 0xFF {
            i += 1;
        }
        if i + 1 >= b.len() || b[i] != 0xFF {
            return false;
        }
        let m = b[i + 1];
        i += 2;
        match m {
            0xD9 => return true,
            0xD0..=0xD7 | 0x01 => {}
            _ => {
                if i + 1 >= b.len() {
                    return false;
                }
                let len = usize::from(u16::from_be_bytes([b[i], b[i + 1]]));
                if len < 2 || i + len > b.len() {
                    return false;
                }
                i += len;
                if m == 0xDA {
                    // Entropy-coded data up to the next marker that is neither a stuffed
                    // 0xFF00 nor a restart marker.
                    loop {
                        if i + 1 >= b.len() {
                            return false;
                        }
                        let next = b[i + 1];
                        if b[i] == 0xFF
                            && next != 0x00
                            && next != 0xFF
                            && !(0xD0..=0xD7).contains(&next)
                        {
                            break;
                        }
                        i += 1;
                    }
                }
            }
        }
    }
}

/// [`reencode_jpeg`] on the blocking thread pool, so that decoding a large picture does not
/// stall the async workers.
pub async fn reencode_jpeg_blocking(
    bytes: Vec<u8>,
    b: &'static Bounds,
    max_alloc: u64,
    fit: u32,
    thumb: u32,
    quality: u8,
) -> Result<Photo, ImageError> {
    tokio::task::spawn_blocking(move || reencode_jpeg(&bytes, b, max_alloc, fit, thumb, quality))
        .await
        .unwrap_or(Err(ImageError::Broken))
}

fn flatten_on_white(img: image::DynamicImage) -> image::RgbImage {
    if !img.color().has_alpha() {
        return img.to_rgb8();
    }
    let rgba = img.to_rgba8();
    let mut out = image::RgbImage::new(rgba.width(), rgba.height());
    for (o, p) in out.pixels_mut().zip(rgba.pixels()) {
        let a = u16::from(p[3]);
        let mix = |c: u8| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8;
        *o = image::Rgb([mix(p[0]), mix(p[1]), mix(p[2])]);
    }
    out
}

/// Encodes 8-bit RGB pixels (row by row, `width` × `height` × 3 bytes) as a JPEG with only a
/// JFIF header: no EXIF, no comments.
pub fn jpeg_from_rgb(
    rgb: &[u8],
    width: u32,
    height: u32,
    quality: u8,
) -> Result<Vec<u8>, ImageError> {
    let (Ok(w), Ok(h)) = (u16::try_from(width), u16::try_from(height)) else {
        return Err(ImageError::TooLarge);
    };
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, quality)
        .encode(rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .map_err(|_| ImageError::Broken)?;
    Ok(out)
}

/// Width and height of `w` × `h` scaled down (aspect kept) to fit a `fit` × `fit` box.
fn fit_size(w: u32, h: u32, fit: u32) -> (u32, u32) {
    if w <= fit && h <= fit {
        return (w, h);
    }
    let (w64, h64, f) = (u64::from(w), u64::from(h), u64::from(fit));
    if w >= h {
        (fit, ((h64 * f + w64 / 2) / w64).max(1) as u32)
    } else {
        (((w64 * f + h64 / 2) / h64).max(1) as u32, fit)
    }
}

/// A baseline or progressive JPEG decoded at the smallest of 1/1, 1/2, 1/4, 1/8 size that still
/// covers the `fit` box; None (the caller decodes it the usual way) for CMYK, 16-bit or
/// anything the decoder does not like.
fn decode_jpeg_scaled(bytes: &[u8], fit: u32, max_alloc: u64) -> Option<image::DynamicImage> {
    let mut d = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    d.set_max_decoding_buffer_size(usize::try_from(max_alloc).ok()?);
    d.read_info().ok()?;
    let info = d.info()?;
    let (tw, th) = fit_size(u32::from(info.width), u32::from(info.height), fit);
    let (sw, sh) = d
        .scale(u16::try_from(tw).ok()?, u16::try_from(th).ok()?)
        .ok()?;
    let px = d.decode().ok()?;
    let (sw, sh) = (u32::from(sw), u32::from(sh));
    match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => {
            image::RgbImage::from_raw(sw, sh, px).map(image::DynamicImage::ImageRgb8)
        }
        jpeg_decoder::PixelFormat::L8 => {
            image::GrayImage::from_raw(sw, sh, px).map(image::DynamicImage::ImageLuma8)
        }
        _ => None,
    }
}

/// Scales RGB pixels down (bilinear convolution, SIMD) to fit a `fit` × `fit` box; smaller
/// pictures stay as they are.
fn shrink_to_fit(rgb: image::RgbImage, fit: u32) -> Result<image::RgbImage, ImageError> {
    use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer, images};
    let (w, h) = rgb.dimensions();
    let (tw, th) = fit_size(w, h, fit);
    if (tw, th) == (w, h) {
        return Ok(rgb);
    }
    let src = images::Image::from_vec_u8(w, h, rgb.into_raw(), PixelType::U8x3)
        .map_err(|_| ImageError::Broken)?;
    let mut dst = images::Image::new(tw, th, PixelType::U8x3);
    Resizer::new()
        .resize(
            &src,
            &mut dst,
            &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear)),
        )
        .map_err(|_| ImageError::Broken)?;
    image::RgbImage::from_raw(tw, th, dst.into_vec()).ok_or(ImageError::Broken)
}

/// Width and height of a picture after decoding it completely (PNG, JPEG or WebP), within
/// `b`: whether a stored or served file is a whole, readable picture.
pub fn decoded_size(bytes: &[u8], b: &Bounds) -> Result<(u32, u32), ImageError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| ImageError::Broken)?;
    match reader.format() {
        Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP) => {}
        _ => return Err(ImageError::UnsupportedType),
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(b.max_pixels);
    limits.max_image_height = Some(b.max_pixels);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => ImageError::TooLarge,
        _ => ImageError::Broken,
    })?;
    Ok((img.width(), img.height()))
}

#[cfg(test)]
mod photo_tests {
    use super::*;

    const P: Bounds = Bounds {
        max_bytes: 10 * 1024 * 1024,
        max_pixels: 8000,
    };

    fn gradient(w: u32, h: u32) -> Vec<u8> {
        let mut px = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                px.extend_from_slice(&[(x % 256) as u8, (y % 256) as u8, 128]);
            }
        }
        jpeg_from_rgb(&px, w, h, 90).expect("jpeg")
    }

    /// A JPEG with an EXIF block right after SOI: orientation 6 (turn 90° clockwise).
    fn with_orientation_6(jpeg: &[u8]) -> Vec<u8> {
        // TIFF header (big endian), IFD0 with one entry: 0x0112 SHORT 1 = 6.
        let tiff: Vec<u8> = [
            &b"MM\x00\x2a\x00\x00\x00\x08"[..],
            &[0x00, 0x01],
            &[
                0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00, 0x00,
            ],
            &[0x00, 0x00, 0x00, 0x00],
        ]
        .concat();
        let mut payload = b"Exif\x00\x00".to_vec();
        payload.extend_from_slice(&tiff);
        let len = (payload.len() + 2) as u16;
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&payload);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    #[test]
    fn photo_is_bounded_upright_and_clean() {
        let src = with_orientation_6(&gradient(400, 200));
        let p = reencode_jpeg(&src, &P, 256 * 1024 * 1024, 300, 100, 82).expect("ok");
        // Turned upright: portrait now, scaled into 300 × 300.
        assert_eq!((p.width, p.height), (150, 300));
        assert_eq!(decoded_size(&p.jpeg, &P), Ok((150, 300)));
        assert_eq!(decoded_size(&p.thumb, &P), Ok((50, 100)));
        assert!(!p.jpeg.windows(4).any(|w| w == b"Exif"));
        assert_eq!(p.sha256.len(), 64);
    }

    #[test]
    fn photo_refuses_bombs_and_junk() {
        // A PNG header claiming 20,000 × 20,000 px and nothing behind it.
        let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
        png.extend_from_slice(&20_000u32.to_be_bytes());
        png.extend_from_slice(&20_000u32.to_be_bytes());
        png.extend_from_slice(&[8, 6, 0, 0, 0]);
        let crc = crc32fast::hash(&png[12..]);
        png.extend_from_slice(&crc.to_be_bytes());
        assert_eq!(
            reencode_jpeg(&png, &P, 1 << 28, 1600, 400, 82).err(),
            Some(ImageError::TooLarge)
        );
        assert_eq!(
            reencode_jpeg(b"%PDF-1.7", &P, 1 << 28, 1600, 400, 82).err(),
            Some(ImageError::UnsupportedType)
        );
        assert!(jpeg_complete(&gradient(300, 200)));
        assert!(jpeg_complete(&with_orientation_6(&gradient(30, 20))));
        let mut cut = gradient(300, 200);
        cut.truncate(cut.len() / 2);
        assert!(!jpeg_complete(&cut));
        assert_eq!(
            reencode_jpeg(&cut, &P, 1 << 28, 1600, 400, 82).err(),
            Some(ImageError::Broken)
        );
        // Within the dimensions but over the memory cap.
        assert_eq!(
            reencode_jpeg(&gradient(100, 100), &P, 100 * 100, 1600, 400, 82).err(),
            Some(ImageError::TooLarge)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbaImage::from_pixel(w, h, image::Rgba([10, 60, 120, 255]));
        let mut out = Cursor::new(Vec::new());
        image::DynamicImage::ImageRgba8(img)
            .write_to(&mut out, ImageFormat::Png)
            .expect("encode");
        out.into_inner()
    }

    const B: Bounds = Bounds {
        max_bytes: 1024 * 1024,
        max_pixels: 4000,
    };

    #[test]
    fn reencodes_and_scales() {
        let out = reencode_png(&png(600, 300), &B, 256).expect("ok");
        let back = image::load_from_memory(&out).expect("png");
        assert_eq!((back.width(), back.height()), (256, 128));
    }

    #[test]
    fn refuses_bad_input() {
        assert_eq!(
            reencode_png(b"%PDF-1.7 not an image", &B, 256).err(),
            Some(ImageError::UnsupportedType)
        );
        let mut truncated = png(50, 50);
        truncated.truncate(truncated.len() / 2);
        assert_eq!(
            reencode_png(&truncated, &B, 256).err(),
            Some(ImageError::Broken)
        );
        assert_eq!(
            reencode_png(&png(5000, 10), &B, 256).err(),
            Some(ImageError::TooLarge)
        );
        let big = vec![0u8; 2 * 1024 * 1024];
        assert_eq!(
            reencode_png(&big, &B, 256).err(),
            Some(ImageError::TooLarge)
        );
    }
}
