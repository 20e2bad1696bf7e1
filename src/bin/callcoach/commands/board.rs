//! `callcoach board`: serve the supervisors' board, or manage who may connect.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use callcoach::board::server::{serve, ServeOptions};
use callcoach::board::{auth, BoardOptions, Role, Store};

use super::out_line;
use crate::cli::{BoardArgs, BoardCommand, TokenCommand};

fn data_dir(args: &BoardArgs) -> PathBuf {
    args.data.clone().unwrap_or_else(|| callcoach::asr::model::data_dir().join("board"))
}

fn role(s: &str) -> Role {
    if s == "supervisor" {
        Role::Supervisor
    } else {
        Role::Agent
    }
}

pub(super) fn run(args: &BoardArgs) -> Result<()> {
    let dir = data_dir(args);
    match &args.command {
        Some(BoardCommand::Token(TokenCommand::Add { role: r, name })) => {
            let store = Store::open(&dir)?;
            let p = store.principal(name, role(r))?;
            let token = auth::new_token()?;
            store.add_token(&p, &auth::hash_token(&token))?;
            out_line(&format!("new {} token for {} (stored hashed in {}; shown once):", p.role.as_str(), p.name, store.path().display()))?;
            out_line(&token)
        }
        Some(BoardCommand::Token(TokenCommand::Revoke { role: r, name })) => {
            let store = Store::open(&dir)?;
            let n = store.revoke_tokens(name, role(r))?;
            if n == 0 {
                bail!("{name} has no {r} token to revoke in {}", store.path().display());
            }
            out_line(&format!("revoked {n} {r} token(s) of {name}"))
        }
        Some(BoardCommand::Password { name }) => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
            let password = line.trim_end_matches(['\n', '\r']);
            if password.chars().count() < 8 {
                bail!("the password has fewer than 8 characters");
            }
            let store = Store::open(&dir)?;
            let p = store.principal(name, Role::Supervisor)?;
            store.set_password(&p, &auth::hash_password(password)?)?;
            out_line(&format!("password set for supervisor {name}"))
        }
        Some(BoardCommand::Load { board, agents, pages, duration_s, ramp_s, nats }) => {
            let store = Store::open(&dir)?;
            let mut tokens = Vec::new();
            if nats.is_none() {
                for i in 0..*agents {
                    let p = store.principal(&format!("load-agent-{i}"), Role::Agent)?;
                    let t = auth::new_token()?;
                    store.add_token(&p, &auth::hash_token(&t))?;
                    tokens.push(t);
                }
            }
            let sup = store.principal("load-supervisor", Role::Supervisor)?;
            let supervisor_token = auth::new_token()?;
            store.add_token(&sup, &auth::hash_token(&supervisor_token))?;
            drop(store);
            let opts = callcoach::board::load::LoadOptions {
                board: board.clone(),
                agent_tokens: tokens,
                agents: *agents,
                supervisor_token,
                pages: *pages,
                duration: std::time::Duration::from_secs_f64(*duration_s),
                ramp: std::time::Duration::from_secs_f64(*ramp_s),
                nats: nats.clone(),
            };
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let r = rt.block_on(callcoach::board::load::run(opts)).map_err(anyhow::Error::msg)?;
            out_line(&format!(
                "agents {agents} pages {pages}: events_per_s {:.0} sent {} acknowledged {} page_receipts {} latency_ms p50 {:.1} p95 {:.1} p99 {:.1} max {:.1} agent_failures {}",
                r.events_per_s, r.sent, r.acknowledged, r.received, r.latency_ms[0], r.latency_ms[1], r.latency_ms[2], r.latency_ms[3], r.agent_failures
            ))
        }
        None => {
            let mut options = BoardOptions::new(&dir);
            options.retention_days = args.retention_days;
            options.secure_cookies = args.tls_cert.is_some();
            let tls = args.tls_cert.clone().zip(args.tls_key.clone());
            let scheme = if tls.is_some() { "https" } else { "http" };
            let nats = args.nats.clone().map(|url| callcoach::board::nats::NatsOptions {
                url,
                board_id: args.board_id.clone().unwrap_or_else(|| format!("board-{}", &auth::hash_token(&dir.display().to_string())[..12])),
                site: args.site.clone(),
            });
            serve(options, ServeOptions { listen: args.listen, tls, nats }, |addr| {
                // Scripts wait for this line to know the port (with --listen ...:0).
                println!("board listening on {scheme}://{addr} (data: {})", dir.display());
            })
            .context("running the board")
        }
    }
}
