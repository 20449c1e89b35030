"""Building blocks the methods are made of: losses, consistency ramps and input noise, EMA
teachers, the SGD optimiser, schedules and seeding. They import no method and no part of the
training runner (advmim/train/), which sits above the methods."""
