//! `brig features`.

use super::Result;

/// Prints the features JSON.
pub fn run() -> Result<u8> {
    let text = serde_json::to_string_pretty(&libcontainer::features::features())
        .map_err(|e| libcontainer::Error::config("features", e.to_string()))?;
    println!("{text}");
    Ok(0)
}
