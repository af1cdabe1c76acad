//! Synthetic platforms of any size, for benchmarks and scale tests: `n` services, each
//! with probes, resources, autoscaling, env bindings with secret references and 2–4
//! calls; databases with backups, a cache, a gateway and three environments. The output
//! is deterministic: the same `n` always gives the same program.

use std::fmt::Write as _;

/// The source of a synthetic platform with `n` services.
pub fn platform(n: usize) -> String {
    let n = n.max(1);
    let dbs = n.div_ceil(50);
    let mut s = String::with_capacity(n * 900);
    s.push_str("use std.postgres\nuse std.redis\n\n");
    s.push_str(
        "platform synth {\n  namespace = \"synth\"\n  version = \"1.0.0\"\n  registry = \"registry.example.com/synth\"\n  labels { team = \"bench\" }\n  secret_store = vault(\"https://vault.example.com:8200\", role: \"synth\", mount: \"kv\")\n  admins = [\"group:synth-admins\"]\n}\n\n",
    );
    s.push_str("secret jwt { keys = [key]  from = vault(\"synth/jwt\") }\n");
    s.push_str("secret db-credentials { keys = [username, password]  from = deploy }\n");
    s.push_str("secret cache-auth { keys = [password]  from = deploy }\n\n");
    for k in 0..dbs {
        let _ = write!(
            s,
            "database db-{k} : std.postgres {{\n  credentials = db-credentials\n  storage {{ size = 10Gi }}\n  backup {{ schedule = \"0 {h} * * *\"  keep = 7  size = 20Gi }}\n}}\n\n",
            h = k % 24
        );
    }
    s.push_str("database cache : std.redis { credentials = cache-auth }\n\n");
    for i in 0..n {
        let db = i % dbs;
        let _ = write!(
            s,
            "/// Synthetic service {i}.\nservice svc-{i} {{\n  image = \"svc-{i}:1.0.{v}\"\n  port http = 8080\n  port grpc = 9090 {{ protocol = grpc }}\n  ready = http(\"/health\", port: http, period: 10s)\n  live = http(\"/alive\", port: http)\n  cpu = 250m..1\n  memory = 256Mi..512Mi\n  scale {{ min = 2  max = {max}  cpu = 70% }}\n  env {{\n    JWT_KEY = jwt.key\n    DATABASE = \"Host=${{db-{db}.host}};Password=${{db-credentials.password}}\"\n    CACHE = cache.address\n",
            v = i % 7,
            max = 4 + i % 8
        );
        let edges = calls(i, n);
        if let Some(j) = edges.first() {
            let _ = writeln!(s, "    PEER_URL = \"http://${{svc-{j}.address}}\"");
        }
        s.push_str("  }\n  calls = [");
        for (e, &j) in edges.iter().enumerate() {
            if e % 2 == 1 {
                let _ = write!(s, "svc-{j}.grpc, ");
            } else {
                let _ = write!(s, "svc-{j}, ");
            }
        }
        let _ = write!(s, "db-{db}, cache]\n}}\n\n");
    }
    s.push_str(
        "gateway public {\n  host = \"synth.example.com\"\n  tls = issuer(\"letsencrypt\")\n",
    );
    for i in (0..n).step_by(10) {
        let _ = writeln!(s, "  route \"/svc-{i}\" -> svc-{i}.http");
    }
    s.push_str("}\n\n");
    for (env, factor) in [("dev", 1), ("staging", 2), ("prod", 4)] {
        let _ = writeln!(s, "env {env} {{\n  platform.namespace = \"synth-{env}\"");
        for i in (0..n).step_by(5) {
            let _ = writeln!(
                s,
                "  svc-{i}.scale {{ min = {min}  max = {max} }}",
                min = factor.min(2),
                max = 4 * factor + i % 8
            );
        }
        for k in 0..dbs {
            let _ = writeln!(s, "  db-{k}.storage.size = {}Gi", 10 * factor);
        }
        s.push_str("}\n\n");
    }
    s
}

/// 2–4 services that service `i` calls (never itself).
fn calls(i: usize, n: usize) -> Vec<usize> {
    if n < 2 {
        return Vec::new();
    }
    let count = 2 + i % 3;
    let mut out = Vec::with_capacity(count);
    for step in [1usize, 7, 31, 97] {
        let j = (i + step) % n;
        if j != i && !out.contains(&j) {
            out.push(j);
        }
        if out.len() == count {
            break;
        }
    }
    out
}
