//! `callcoach train`: fit the analysis models and write them as playbook data.

use anyhow::{Context, Result};
use callcoach::analysis::learned::train::{default_train_dirs, train, Corpus};
use callcoach::config::Config;

use super::load_lexicons;
use crate::cli::TrainArgs;

pub(super) fn run(cfg: &Config, args: &TrainArgs) -> Result<()> {
    let lex = load_lexicons(cfg)?;
    let dirs = if args.train.is_empty() { default_train_dirs(std::path::Path::new("tests/corpus")) } else { args.train.clone() };
    let train_set = Corpus::read(&dirs)?;
    let dev = Corpus::read(std::slice::from_ref(&args.dev))?;
    let names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    println!(
        "training on {} ({} customer, {} agent turns; settings chosen on each folder predicted by a model trained on the others); development set {} ({} customer, {} agent turns)",
        names.join(", "),
        train_set.customer.len(),
        train_set.agent.len(),
        args.dev.display(),
        dev.customer.len(),
        dev.agent.len()
    );
    let report = train(&lex, &train_set, &dev, !args.without_dev)?;
    println!(
        "\n{:<10} {:>8} {:>6} {:>7} {:>5} {:>9} {:>14} {:>9} {:>9}",
        "model", "balanced", "epochs", "l2", "min", "threshold", "held-out score", "examples", "features"
    );
    for c in &report.choices {
        let t = c.threshold.map_or("-".to_string(), |t| format!("{t:.2}"));
        println!(
            "{:<10} {:>8} {:>6} {:>7.0e} {:>5} {:>9} {:>14.3} {:>9} {:>9}",
            c.model, c.options.balance, c.options.epochs, c.options.l2, c.options.min_count, t, c.held_out_score, c.examples, c.features
        );
    }
    println!("\ndevelopment set, rules alone:\n{}", report.dev_rules_only.render(false));
    println!("development set, rules and the models trained without it:\n{}", report.dev.render(false));
    if args.dry_run {
        println!("--dry-run: models not written");
        return Ok(());
    }
    report.models.save(&args.out).with_context(|| format!("writing the models into {}", args.out.display()))?;
    let on = if args.without_dev { "the training sets alone" } else { "the training and development sets together" };
    println!("models written to {} (trained on {on})", args.out.display());
    Ok(())
}
