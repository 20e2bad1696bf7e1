//! `callcoach train`: fit the analysis models and write them as playbook data.

use anyhow::{Context, Result};
use callcoach::analysis::learned::pinned::Pinned;
use callcoach::analysis::learned::train::{default_train_dirs, train, Choice, Corpus, HeldOutMiss, Refused, TrainPlan};
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
        "training on {} ({} customer, {} agent turns; settings chosen on each folder predicted by a model trained without it); development set {} ({} customer, {} agent turns)",
        names.join(", "),
        train_set.customer.len(),
        train_set.agent.len(),
        args.dev.display(),
        dev.customer.len(),
        dev.agent.len()
    );
    let pinned = pinned_lines(args)?;
    match &pinned {
        Some(p) => println!("pinned lines: {} ({} lines; a model is kept only at settings that get its pinned labels right)", p.dir.display(), p.len()),
        None if args.no_pinned => println!("pinned lines: none (--no-pinned)"),
        None => println!("pinned lines: none ({DEFAULT_PINNED} not found)"),
    }
    let plan = TrainPlan { dev_in_final: !args.without_dev, joined: args.joined_turns, only: args.only.clone(), pinned };
    if !plan.only.is_empty() {
        println!("retraining {} only; the other models are the playbook's own (their development rows include the development set)", plan.only.join(", "));
    }
    let report = train(&lex, &train_set, &dev, &plan)?;
    println!(
        "\n{:<10} {:>8} {:>8} {:>6} {:>7} {:>5} {:>5} {:>9} {:>14} {:>13} {:>9} {:>9}",
        "model", "balanced", "nb-scale", "epochs", "l2", "min", "bags", "threshold", "held-out score", "single model", "examples", "features"
    );
    for c in &report.choices {
        let t = c.threshold.map_or("-".to_string(), |t| format!("{t:.2}"));
        println!(
            "{:<10} {:>8} {:>8} {:>6} {:>7.0e} {:>5} {:>5} {:>9} {:>14.3} {:>13.3} {:>9} {:>9}",
            c.model,
            c.options.balance,
            c.options.nb_scale,
            c.options.epochs,
            c.options.l2,
            c.options.min_count,
            c.options.bags,
            t,
            c.held_out_score,
            c.held_out_single_score,
            c.examples,
            c.features
        );
    }
    for c in &report.choices {
        print_refused(c.model, &c.refused);
    }
    for k in &report.pinned_kept {
        println!("\n{}: KEPT as the playbook has it: no setting got every pinned line right", k.model);
        print_refused(k.model, &k.refused);
    }
    println!("\ndevelopment set, rules alone:\n{}", report.dev_rules_only.render(false));
    println!("development set, rules and the models trained without it:\n{}", report.dev.render(false));
    if let Some(path) = &args.held_out_misses {
        write_misses(path, &report.choices).with_context(|| format!("writing the held-out misses to {}", path.display()))?;
        let n: usize = report.choices.iter().map(|c| c.held_out_misses.len()).sum();
        println!("{n} held-out misses written to {}", path.display());
    }
    if args.dry_run {
        println!("--dry-run: models not written");
        return Ok(());
    }
    report.models.save(&args.out).with_context(|| format!("writing the models into {}", args.out.display()))?;
    let on = if args.without_dev { "the training sets alone" } else { "the training and development sets together" };
    println!("models written to {} (trained on {on})", args.out.display());
    Ok(())
}

/// The held-out misses as TSV, per model the most confident first.
fn write_misses(path: &std::path::Path, choices: &[Choice]) -> std::io::Result<()> {
    let mut out = String::from("model\tfolder\tlabel\tdecided\tprobability_of_label\ttext\n");
    for c in choices {
        let mut misses: Vec<&HeldOutMiss> = c.held_out_misses.iter().collect();
        misses.sort_by(|a, b| a.probability_of_label.total_cmp(&b.probability_of_label));
        for m in misses {
            out.push_str(&format!("{}\t{}\t{}\t{}\t{:.2}\t{}\n", c.model, m.folder.display(), m.expected, m.got, m.probability_of_label, m.text));
        }
    }
    std::fs::write(path, out)
}

/// Where the pinned lines are when `--pinned` is not given.
const DEFAULT_PINNED: &str = "tests/corpus/pinned";

/// The pinned lines `args` ask for: `--pinned DIR` (which must exist), none
/// with `--no-pinned`, else the default folder when it exists.
fn pinned_lines(args: &TrainArgs) -> Result<Option<Pinned>> {
    let dir = match (&args.pinned, args.no_pinned) {
        (_, true) => return Ok(None),
        (Some(dir), false) => dir.clone(),
        (None, false) => {
            let dir = std::path::PathBuf::from(DEFAULT_PINNED);
            if !dir.is_dir() {
                return Ok(None);
            }
            dir
        }
    };
    Ok(Some(Pinned::read(&dir).with_context(|| format!("reading the pinned lines in {}", dir.display()))?))
}

/// The settings passed over for `model`, each with the pinned lines it got wrong.
fn print_refused(model: &str, refused: &[Refused]) {
    for r in refused {
        let o = &r.options;
        println!(
            "{model}: passed over (balanced {}, epochs {}, l2 {:.0e}, min {}, bags {}; held-out score {:.3}): gets {} pinned line(s) wrong",
            o.balance,
            o.epochs,
            o.l2,
            o.min_count,
            o.bags,
            r.held_out_score,
            r.misses.len()
        );
        for m in &r.misses {
            println!("    {} expected {} got {}: {}", m.label, m.expected, m.got, m.text);
        }
    }
}
