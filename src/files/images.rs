//! Images for vision models: decoded within a pixel budget (a decompression bomb is refused from its header, before
//! any memory is taken), turned upright (EXIF orientation), downscaled to what the providers read (Mistral scales
//! everything to fit 1540×1540) and re-encoded — PNG for drawings and screenshots, JPEG for photos — which drops all
//! metadata (EXIF, GPS, comments). CPU-bound: call it off the async threads.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use super::kinds::ImageType;

/// The longest side sent to a model (Mistral's documented downscale; larger only costs bytes).
pub const MAX_SIDE: u32 = 1540;

/// An image ready to store and send.
#[derive(Debug)]
pub struct Processed {
    /// The re-encoded bytes.
    pub bytes: Vec<u8>,
    /// `image/png` or `image/jpeg`.
    pub content_type: &'static str,
    /// Size after downscaling.
    pub width: u32,
    /// See `width`.
    pub height: u32,
}

/// Why an image was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum ImageError {
    /// More pixels than the budget (width, height).
    TooLarge(u32, u32),
    /// An animated GIF.
    Animated,
    /// Not decodable.
    Broken,
}

/// Decodes, checks, orients, downscales and re-encodes `bytes`.
pub fn process(bytes: &[u8], format: ImageType, max_pixels: u64) -> Result<Processed, ImageError> {
    let format = match format {
        ImageType::Png => ImageFormat::Png,
        ImageType::Jpeg => ImageFormat::Jpeg,
        ImageType::Webp => ImageFormat::WebP,
        ImageType::Gif => ImageFormat::Gif,
    };
    if format == ImageFormat::Gif && frames(bytes, max_pixels)? > 1 {
        return Err(ImageError::Animated);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits(max_pixels));
    let mut decoder = reader.into_decoder().map_err(|_| ImageError::Broken)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(ImageError::TooLarge(width, height));
    }
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder).map_err(|_| ImageError::Broken)?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    if image.width() > MAX_SIDE || image.height() > MAX_SIDE {
        image = image.resize(MAX_SIDE, MAX_SIDE, image::imageops::FilterType::Triangle);
    }
    // Photos compress well as JPEG; anything with transparency, and what came as PNG or GIF (screenshots, drawings,
    // text), stays lossless.
    let lossless = image.color().has_alpha() || matches!(format, ImageFormat::Png | ImageFormat::Gif);
    let mut out = Vec::new();
    let content_type = if lossless {
        image
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .map_err(|_| ImageError::Broken)?;
        "image/png"
    } else {
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
        image
            .to_rgb8()
            .write_with_encoder(encoder)
            .map_err(|_| ImageError::Broken)?;
        "image/jpeg"
    };
    Ok(Processed {
        bytes: out,
        content_type,
        width: image.width(),
        height: image.height(),
    })
}

/// The decoder's memory limits for a budget of `max_pixels`: no side longer than the budget allows and no more
/// memory than the budget's pixels at 16 bits per channel.
fn limits(max_pixels: u64) -> Limits {
    let mut limits = Limits::default();
    let side = u32::try_from(max_pixels.min(u64::from(u32::MAX))).unwrap_or(u32::MAX);
    limits.max_image_width = Some(side);
    limits.max_image_height = Some(side);
    limits.max_alloc = Some(max_pixels.saturating_mul(8).saturating_add(16 << 20));
    limits
}

/// How many frames a GIF has, counting at most two (each frame is decoded within the same limits).
fn frames(bytes: &[u8], max_pixels: u64) -> Result<usize, ImageError> {
    use image::AnimationDecoder;
    let mut decoder = image::codecs::gif::GifDecoder::new(Cursor::new(bytes)).map_err(|_| ImageError::Broken)?;
    decoder.set_limits(limits(max_pixels)).map_err(|_| ImageError::Broken)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(ImageError::TooLarge(width, height));
    }
    let mut count = 0;
    for frame in decoder.into_frames().take(2) {
        frame.map_err(|_| ImageError::Broken)?;
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Rgb, Rgba};

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = ImageBuffer::from_fn(width, height, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 7]));
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(image)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn a_large_photo_is_downscaled_and_reencoded() {
        let image = ImageBuffer::from_fn(3000, 2000, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        let mut jpeg = Vec::new();
        DynamicImage::ImageRgb8(image)
            .write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
            .unwrap();
        let out = process(&jpeg, ImageType::Jpeg, 50_000_000).unwrap();
        assert_eq!((out.width, out.height), (1540, 1027));
        assert_eq!(out.content_type, "image/jpeg");
        assert!(out.bytes.starts_with(&[0xFF, 0xD8]));
    }

    #[test]
    fn screenshots_stay_lossless_and_transparency_is_kept() {
        let out = process(&png(200, 100), ImageType::Png, 50_000_000).unwrap();
        assert_eq!((out.content_type, out.width, out.height), ("image/png", 200, 100));
        let image = ImageBuffer::from_pixel(10, 10, Rgba([1u8, 2, 3, 4]));
        let mut webp = Vec::new();
        DynamicImage::ImageRgba8(image)
            .write_to(&mut Cursor::new(&mut webp), ImageFormat::WebP)
            .unwrap();
        assert_eq!(
            process(&webp, ImageType::Webp, 50_000_000).unwrap().content_type,
            "image/png"
        );
    }

    #[test]
    fn a_decompression_bomb_is_refused_from_its_header() {
        // A valid PNG header claiming 60000×60000 pixels, and nothing else: refused before decoding.
        let mut bomb = png(1, 1);
        bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
        let started = std::time::Instant::now();
        let refused = process(&bomb, ImageType::Png, 50_000_000).unwrap_err();
        assert!(
            matches!(refused, ImageError::TooLarge(60_000, 60_000) | ImageError::Broken),
            "{refused:?}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(
            process(&png(4000, 3000), ImageType::Png, 10_000_000).unwrap_err(),
            ImageError::TooLarge(4000, 3000)
        );
    }

    #[test]
    fn broken_and_animated_images_are_refused() {
        let mut cut = png(64, 64);
        cut.truncate(cut.len() / 2);
        assert_eq!(
            process(&cut, ImageType::Png, 50_000_000).unwrap_err(),
            ImageError::Broken
        );
        assert_eq!(
            process(b"GIF89a", ImageType::Gif, 50_000_000).unwrap_err(),
            ImageError::Broken
        );

        let mut gif = Vec::new();
        {
            let mut encoder = image::codecs::gif::GifEncoder::new(&mut gif);
            for shade in [0u8, 255] {
                let frame = image::Frame::new(ImageBuffer::from_pixel(4, 4, Rgba([shade, 0, 0, 255])));
                encoder.encode_frame(frame).unwrap();
            }
        }
        assert_eq!(
            process(&gif, ImageType::Gif, 50_000_000).unwrap_err(),
            ImageError::Animated
        );
    }

    #[test]
    fn metadata_is_dropped() {
        // A JPEG with an EXIF segment carrying a GPS tag name: gone after re-encoding.
        let mut jpeg = Vec::new();
        DynamicImage::ImageRgb8(ImageBuffer::from_pixel(8, 8, Rgb([9u8, 9, 9])))
            .write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
            .unwrap();
        let exif = b"Exif\0\0MM\0*\0\0\0\x08\0\0GPSLatitude 48.8566 N";
        let mut with_exif = jpeg[..2].to_vec();
        with_exif.extend_from_slice(&[0xFF, 0xE1]);
        with_exif.extend_from_slice(&u16::try_from(exif.len() + 2).unwrap().to_be_bytes());
        with_exif.extend_from_slice(exif);
        with_exif.extend_from_slice(&jpeg[2..]);
        let out = process(&with_exif, ImageType::Jpeg, 50_000_000).unwrap();
        assert!(!out.bytes.windows(4).any(|w| w == b"Exif"));
        assert!(!out.bytes.windows(11).any(|w| w == b"GPSLatitude"));
    }
}
