"""The application season (issue 13, part A): my programs per cycle with their status history, fees, signals,
letters and interviews. Models live in programs.season.models (registered by ProgramsConfig.import_models so
programs.models need not import this package); the public interface is in programs/INTERFACE.md, "Season"."""
