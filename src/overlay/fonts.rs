//! Chinese text on screen: egui's own fonts have no CJK glyphs, so a font
//! with them is found (`[overlay] font`, fontconfig, or the usual paths of
//! Debian's `fonts-noto-cjk`) and put in front of egui's defaults.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use eframe::egui::{self, FontData, FontDefinitions, FontFamily};

/// No usable font with Chinese glyphs.
#[derive(Debug, thiserror::Error)]
pub enum FontError {
    /// The configured file cannot be read or has no Chinese glyphs.
    #[error("overlay.font = {path}: {reason}")]
    Configured {
        /// The file.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// Nothing found on the system.
    #[error(
        "no font with Chinese characters found; install one (Debian: apt-get install fonts-noto-cjk) \
         or set overlay.font = \"/path/to/a/CJK/font.ttc\" in the configuration"
    )]
    NotFound,
}

/// A font file and the face to use in it.
#[derive(Debug, Clone, PartialEq)]
pub struct FontChoice {
    /// The file.
    pub path: PathBuf,
    /// Face index (collections hold several).
    pub index: u32,
}

/// Where distributions put Noto Sans CJK, and in a collection which face
/// is simplified Chinese (Noto Sans CJK: JP, KR, SC, TC, HK).
const KNOWN: &[(&str, u32)] = &[
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
];

/// Asks fontconfig for a simplified-Chinese sans font.
fn from_fontconfig() -> Option<FontChoice> {
    let out = Command::new("fc-match").args(["-f", "%{file}\t%{index}", "sans-serif:lang=zh-cn"]).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let (file, index) = text.split_once('\t')?;
    let path = PathBuf::from(file);
    // fontconfig falls back to any sans font; only take one that covers Chinese.
    let covers = Command::new("fc-query").args(["-i", index, "-f", "%{lang}", file]).output().ok()?;
    let langs = String::from_utf8_lossy(&covers.stdout);
    (path.exists() && langs.split('|').any(|l| l == "zh-cn")).then(|| FontChoice { path, index: index.trim().parse().unwrap_or(0) })
}

/// Finds the font: the configured one, else fontconfig, else the known paths.
pub fn find(configured: Option<&Path>, index: Option<u32>) -> Result<FontChoice, FontError> {
    if let Some(path) = configured {
        if !path.is_file() {
            return Err(FontError::Configured { path: path.to_path_buf(), reason: "no such file".into() });
        }
        let is_noto_collection =
            path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("NotoSansCJK")) && path.extension().is_some_and(|e| e == "ttc");
        return Ok(FontChoice { path: path.to_path_buf(), index: index.unwrap_or(if is_noto_collection { 2 } else { 0 }) });
    }
    if let Some((p, i)) = KNOWN.iter().find(|(p, _)| Path::new(p).is_file()) {
        return Ok(FontChoice { path: PathBuf::from(p), index: index.unwrap_or(*i) });
    }
    from_fontconfig().map(|c| FontChoice { index: index.unwrap_or(c.index), ..c }).ok_or(FontError::NotFound)
}

/// Reads the font and checks that it draws Chinese (它 must have a glyph).
pub fn load(choice: &FontChoice) -> Result<FontData, FontError> {
    let bytes = std::fs::read(&choice.path).map_err(|e| FontError::Configured { path: choice.path.clone(), reason: e.to_string() })?;
    let data = FontData::from_blob(Arc::new(bytes), choice.index);
    let mut defs = FontDefinitions::empty();
    defs.font_data.insert("cjk".into(), Arc::new(data.clone()));
    defs.families.insert(FontFamily::Proportional, vec!["cjk".into()]);
    let mut fonts = egui::epaint::text::Fonts::new(Default::default(), defs);
    if !fonts.has_glyphs(&egui::FontId::proportional(14.0), "销户") {
        return Err(FontError::Configured {
            path: choice.path.clone(),
            reason: format!("face {} has no Chinese characters; pick another file or overlay.font_index", choice.index),
        });
    }
    Ok(data)
}

/// Puts the Chinese font in front of egui's defaults (Latin and symbols
/// keep egui's look; everything else falls through to the CJK face).
pub fn install(ctx: &egui::Context, data: FontData) {
    let mut defs = FontDefinitions::default();
    defs.font_data.insert("cjk".into(), Arc::new(data));
    for family in [FontFamily::Proportional, FontFamily::Monospace] {
        defs.families.entry(family).or_default().push("cjk".into());
    }
    ctx.set_fonts(defs);
}
