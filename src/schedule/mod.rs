//! Progressive shrinking: stages, drop counts, and the schedule's position.

mod error;
mod shrink_schedule;
mod shrink_schedule_config;
mod stage_config;

pub use error::ScheduleError;
pub use shrink_schedule::ShrinkSchedule;
pub use shrink_schedule_config::{AlphaInit, ShrinkPlan, ShrinkScheduleConfig};
pub use stage_config::StageConfig;
