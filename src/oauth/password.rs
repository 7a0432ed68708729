//! Password hashing in bounded memory.
//!
//! argon2id is memory-hard on purpose: each hash fills 19 MiB. Allocating
//! that per attempt leaves it with the allocator, on whichever blocking
//! thread ran it, so a burst of failed sign-ins used to grow the process by
//! hundreds of MB for good. Instead, one process-wide [`HASHER`] owns
//! [`HASH_SLOTS`] block sets, allocated on first use and reused by every
//! hash after (`hash_password_into_with_memory`); at most
//! [`MAX_QUEUED_HASHES`] attempts wait for one, later ones are told to come
//! back. The pool is per process, not per server, because memory is.
//!
//! New hashes use OWASP's argon2id parameters. Hashes configured in
//! `MCP_USERS` may carry their own, within bounds that keep one verification
//! inside a slot and its time near ours: see [`Phc`].

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::RngCore;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex};
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

/// OWASP's argon2id recommendation (also argon2's defaults): 19 MiB, two
/// passes, one lane.
pub const M_COST_KIB: u32 = 19 * 1024;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;
/// Bounds on configured hashes: memory must fit a slot; passes and lanes are
/// capped so one verification costs at most ~5× ours (lanes run one after
/// another here, so they cost time, not memory).
pub const MAX_M_COST_KIB: u32 = M_COST_KIB;
pub const MAX_T_COST: u32 = 10;
pub const MAX_P_COST: u32 = 16;
/// Block sets, so hashes at once. Sized for a 1-CPU VM: a hash is CPU-bound,
/// so more would only share the core and cost 19 MiB each; two let a
/// sign-up's hash and a sign-in's overlap without either waiting a whole turn.
pub const HASH_SLOTS: usize = 2;
/// Attempts running or waiting for a slot before new ones get "busy".
/// A hash takes 20-40 ms, so the last of 64 waits about a second.
pub const MAX_QUEUED_HASHES: usize = 64;
/// Longest accepted password: bounds the hashing work per attempt.
pub const MAX_PASSWORD_LEN: usize = 256;
/// Bytes of salt in new hashes (RFC 9106 recommends 16).
const SALT_LEN: usize = 16;
/// Bytes of digest in new hashes.
const OUTPUT_LEN: usize = 32;

/// The process-wide hashing pool.
pub static HASHER: LazyLock<Hasher> = LazyLock::new(Hasher::new);

/// A stored argon2 hash, parsed once: what to run and what to compare.
#[derive(Clone)]
pub struct Phc {
    algorithm: Algorithm,
    version: Version,
    params: Params,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl std::fmt::Debug for Phc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Phc")
            .field("algorithm", &self.algorithm)
            .field("m_kib", &self.params.m_cost())
            .field("t", &self.params.t_cost())
            .field("p", &self.params.p_cost())
            .finish_non_exhaustive()
    }
}

/// Why a configured hash is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhcError {
    Malformed,
    NotArgon2,
    TooCostly { m_kib: u32, t: u32, p: u32 },
}

impl std::fmt::Display for PhcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PhcError::Malformed => f.write_str("not a valid argon2 PHC hash"),
            PhcError::NotArgon2 => {
                f.write_str("only argon2id, argon2i and argon2d hashes are accepted")
            }
            PhcError::TooCostly { m_kib, t, p } => write!(
                f,
                "the argon2 hash costs more than this server verifies (m={m_kib}, t={t}, p={p}; \
                 at most m={MAX_M_COST_KIB}, t={MAX_T_COST}, p={MAX_P_COST}): make a new one \
                 with `crypto-mcp hash-password`"
            ),
        }
    }
}

impl std::error::Error for PhcError {}

impl std::str::FromStr for Phc {
    type Err = PhcError;

    fn from_str(s: &str) -> Result<Self, PhcError> {
        let phc = PasswordHash::new(s).map_err(|_| PhcError::Malformed)?;
        let algorithm = Algorithm::try_from(phc.algorithm).map_err(|_| PhcError::NotArgon2)?;
        // As argon2's own verifier does: no version field means 0x13.
        let version = match phc.version {
            Some(v) => Version::try_from(v).map_err(|_| PhcError::Malformed)?,
            None => Version::default(),
        };
        let params = Params::try_from(&phc).map_err(|_| PhcError::Malformed)?;
        let (m_kib, t, p) = (params.m_cost(), params.t_cost(), params.p_cost());
        if m_kib > MAX_M_COST_KIB || t > MAX_T_COST || p > MAX_P_COST {
            return Err(PhcError::TooCostly { m_kib, t, p });
        }
        let mut buf = [0u8; 64];
        let salt = phc
            .salt
            .ok_or(PhcError::Malformed)?
            .decode_b64(&mut buf)
            .map_err(|_| PhcError::Malformed)?
            .to_vec();
        let hash = phc.hash.ok_or(PhcError::Malformed)?.as_bytes().to_vec();
        if salt.len() < argon2::MIN_SALT_LEN || hash.len() < Params::MIN_OUTPUT_LEN {
            return Err(PhcError::Malformed);
        }
        Ok(Phc {
            algorithm,
            version,
            params,
            salt,
            hash,
        })
    }
}

impl std::fmt::Display for Phc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let salt = SaltString::encode_b64(&self.salt).map_err(|_| std::fmt::Error)?;
        let phc = PasswordHash {
            algorithm: self.algorithm.ident(),
            version: Some(self.version.into()),
            params: ParamsString::try_from(&self.params).map_err(|_| std::fmt::Error)?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&self.hash).map_err(|_| std::fmt::Error)?),
        };
        write!(f, "{phc}")
    }
}

impl Phc {
    /// Hashes `password` with our parameters and a fresh salt.
    fn new(password: &[u8], memory: &mut [Block]) -> Result<Phc, PasswordError> {
        let params = Params::new(M_COST_KIB, T_COST, P_COST, None)
            .map_err(|e| PasswordError::Hash(e.to_string()))?;
        let mut salt = vec![0u8; SALT_LEN];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        let mut phc = Phc {
            algorithm: Algorithm::Argon2id,
            version: Version::V0x13,
            params,
            salt,
            hash: vec![0u8; OUTPUT_LEN],
        };
        let mut out = [0u8; OUTPUT_LEN];
        phc.compute(password, memory, &mut out)
            .map_err(|e| PasswordError::Hash(e.to_string()))?;
        phc.hash = out.to_vec();
        Ok(phc)
    }

    fn compute(
        &self,
        password: &[u8],
        memory: &mut [Block],
        out: &mut [u8],
    ) -> Result<(), argon2::Error> {
        Argon2::new(self.algorithm, self.version, self.params.clone())
            .hash_password_into_with_memory(password, &self.salt, out, memory)
    }

    /// Constant-time check of `password` against this hash.
    fn matches(&self, password: &[u8], memory: &mut [Block]) -> bool {
        let mut out = vec![0u8; self.hash.len()];
        self.compute(password, memory, &mut out).is_ok() && bool::from(out.ct_eq(&self.hash))
    }
}

#[derive(Debug)]
pub enum PasswordError {
    Length,
    Read(std::io::Error),
    Hash(String),
}

impl std::fmt::Display for PasswordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasswordError::Length => write!(f, "password must be 1..={MAX_PASSWORD_LEN} bytes"),
            PasswordError::Read(e) => write!(f, "could not read the password: {e}"),
            PasswordError::Hash(e) => write!(f, "password hashing failed: {e}"),
        }
    }
}

impl std::error::Error for PasswordError {}

/// Why the pool could not run a hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashError {
    /// Too many attempts queued: try again shortly.
    Busy,
    Failed(String),
}

impl std::fmt::Display for HashError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HashError::Busy => f.write_str("too many password checks at once"),
            HashError::Failed(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for HashError {}

fn new_slot() -> Box<[Block]> {
    vec![Block::new(); M_COST_KIB as usize].into_boxed_slice()
}

/// See the module docs.
pub struct Hasher {
    slots: Mutex<Vec<Box<[Block]>>>,
    permits: Semaphore,
    queued: AtomicUsize,
}

/// Counts an attempt as queued for as long as it lives (also if the request
/// that made it goes away).
struct Queued<'a>(&'a AtomicUsize);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Hasher {
    fn new() -> Self {
        Hasher {
            slots: Mutex::new(Vec::with_capacity(HASH_SLOTS)),
            permits: Semaphore::new(HASH_SLOTS),
            queued: AtomicUsize::new(0),
        }
    }

    /// True iff `password` matches `phc`.
    pub async fn verify(&'static self, phc: Phc, password: &str) -> Result<bool, HashError> {
        if password.len() > MAX_PASSWORD_LEN {
            return Ok(false);
        }
        let password = password.as_bytes().to_vec();
        self.run(move |memory| phc.matches(&password, memory)).await
    }

    /// A new hash of `password` with our parameters.
    pub async fn hash(&'static self, password: &str) -> Result<Phc, HashError> {
        if password.is_empty() || password.len() > MAX_PASSWORD_LEN {
            return Err(HashError::Failed(PasswordError::Length.to_string()));
        }
        let password = password.as_bytes().to_vec();
        self.run(move |memory| Phc::new(&password, memory))
            .await?
            .map_err(|e| HashError::Failed(e.to_string()))
    }

    async fn run<T: Send + 'static>(
        &'static self,
        job: impl FnOnce(&mut [Block]) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let queued = Queued(&self.queued);
        if self.queued.fetch_add(1, Ordering::SeqCst) >= MAX_QUEUED_HASHES {
            return Err(HashError::Busy);
        }
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| HashError::Failed(e.to_string()))?;
        // The slot and the permit travel with the blocking job, so a request
        // dropped mid-hash still gives both back: never more block sets than
        // permits.
        tokio::task::spawn_blocking(move || {
            let mut memory = self.take_slot();
            let out = job(&mut memory);
            self.put_slot(memory);
            drop(permit);
            drop(queued);
            out
        })
        .await
        .map_err(|e| HashError::Failed(e.to_string()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Box<[Block]>>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take_slot(&self) -> Box<[Block]> {
        self.lock().pop().unwrap_or_else(new_slot)
    }

    fn put_slot(&self, memory: Box<[Block]>) {
        self.lock().push(memory);
    }
}

/// Hashes a password to an argon2id PHC string, blocking, with its own
/// memory (for `crypto-mcp hash-password`, a one-off process).
pub fn hash_password(plain: &str) -> Result<String, PasswordError> {
    if plain.is_empty() || plain.len() > MAX_PASSWORD_LEN {
        return Err(PasswordError::Length);
    }
    Ok(Phc::new(plain.as_bytes(), &mut new_slot())?.to_string())
}

/// For `crypto-mcp hash-password`: reads one line (the password, without
/// its newline) from `input` — a pipe or a terminal — and returns its hash.
/// Reading from stdin keeps the password out of the shell history and `ps`.
pub fn hash_password_from_reader(
    mut input: impl std::io::BufRead,
) -> Result<String, PasswordError> {
    let mut line = String::new();
    input.read_line(&mut line).map_err(PasswordError::Read)?;
    let pw = line.strip_suffix('\n').unwrap_or(&line);
    let pw = pw.strip_suffix('\r').unwrap_or(pw);
    hash_password(pw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    fn check(phc: &str, password: &str) -> bool {
        let phc: Phc = phc.parse().unwrap();
        phc.matches(password.as_bytes(), &mut new_slot())
    }

    #[test]
    fn new_hashes_use_owasp_parameters_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(check(&h, "correct horse"));
        assert!(!check(&h, "wrong"));
        // The reference verifier agrees with ours.
        let parsed = PasswordHash::new(&h).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
    }

    #[test]
    fn hashes_of_other_parameters_verify() {
        for (alg, m, t, p) in [
            (Algorithm::Argon2id, 4096, 3, 1),
            (Algorithm::Argon2id, 19_456, 1, 4),
            (Algorithm::Argon2i, 8192, 2, 2),
            (Algorithm::Argon2d, 64, 10, 1),
        ] {
            let params = Params::new(m, t, p, Some(24)).unwrap();
            let salt = SaltString::encode_b64(b"sixteen byte slt").unwrap();
            let h = Argon2::new(alg, Version::V0x13, params)
                .hash_password(b"pw-of-another-tool", &salt)
                .unwrap()
                .to_string();
            assert!(check(&h, "pw-of-another-tool"), "{h}");
            assert!(!check(&h, "pw-of-another-tool!"), "{h}");
        }
        // Version 0x10 hashes (old libargon2) too.
        let params = Params::new(1024, 2, 1, None).unwrap();
        let salt = SaltString::encode_b64(b"sixteen byte slt").unwrap();
        let h = Argon2::new(Algorithm::Argon2id, Version::V0x10, params)
            .hash_password(b"old", &salt)
            .unwrap()
            .to_string();
        assert!(h.contains("v=16"), "{h}");
        assert!(check(&h, "old"));
    }

    #[test]
    fn costly_or_foreign_hashes_are_refused_at_parse() {
        let salt = "c2l4dGVlbiBieXRlIHNsdA";
        let digest = "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
        for (m, t, p) in [(65_536, 3, 4), (19_456, 11, 1), (19_456, 2, 17)] {
            let h = format!("$argon2id$v=19$m={m},t={t},p={p}${salt}${digest}");
            assert_eq!(
                h.parse::<Phc>().unwrap_err(),
                PhcError::TooCostly { m_kib: m, t, p }
            );
        }
        assert_eq!(
            format!("$scrypt$ln=16,r=8,p=1${salt}${digest}")
                .parse::<Phc>()
                .unwrap_err(),
            PhcError::NotArgon2
        );
        for bad in ["", "$argon2id$", "$argon2id$v=19$m=19456,t=2,p=1$!!$x"] {
            assert_eq!(bad.parse::<Phc>().unwrap_err(), PhcError::Malformed);
        }
    }

    #[test]
    fn phc_strings_round_trip() {
        let h = hash_password("round trip").unwrap();
        assert_eq!(h.parse::<Phc>().unwrap().to_string(), h);
    }

    #[test]
    fn hash_password_reads_one_line() {
        let h = hash_password_from_reader(&b"s3cret pass\nignored"[..]).unwrap();
        assert!(check(&h, "s3cret pass"));
        assert!(hash_password_from_reader(&b"\n"[..]).is_err());
    }

    #[tokio::test]
    async fn the_pool_keeps_at_most_its_slots() {
        let phc: Phc = hash_password("pool").unwrap().parse().unwrap();
        let runs = (0..8).map(|_| HASHER.verify(phc.clone(), "pool"));
        for ok in futures_util::future::join_all(runs).await {
            assert_eq!(ok, Ok(true));
        }
        assert!(HASHER.lock().len() <= HASH_SLOTS);
    }
}
