//! AURALIS engine: the real-time DSP shared by the offline analyzer and the plugins
//! (synth voices, effects, mixer).
//!
//! Empty until the HANDS issue lands. The contract it will keep: no allocation, lock or I/O
//! after `allocate(max_block, sample_rate)`; `reset()` makes output repeatable; block
//! processing equals per-sample processing.
