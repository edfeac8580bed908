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
