import OMEZarrConvert
import Testing

/// `--part I/N` and `--part auto` (the array-task variables of Slurm, Kubernetes, AWS Batch,
/// Google Cloud Batch, LSF and Grid Engine).
struct ConvertPartTests {
  func part(_ text: String, _ env: [String: String] = [:]) throws -> ConvertPart { try ConvertPart.parse(text, environment: env) }

  func message(_ text: String, _ env: [String: String] = [:]) -> String? {
    do {
      _ = try part(text, env)
      return nil
    } catch {
      return (error as? ConvertError)?.message
    }
  }

  @Test func explicitParts() throws {
    #expect(try part("0/8") == ConvertPart(index: 0, count: 8))
    #expect(try part("7/8").description == "7/8")
    #expect(try part("0/1").count == 1)
    #expect(message("8/8") == "--part: part 8 does not exist; parts are numbered 0 to 7")
    #expect(message("-1/8") == "--part: part -1 does not exist; parts are numbered 0 to 7")
    #expect(message("0/0") == "--part: the number of parts must be at least 1, not 0")
    for bad in ["", "3", "1/2/3", "a/b", "1/", "/4", "auto/x", "auto/2/3"] {
      #expect(message(bad) == "--part '\(bad)': expected I/N (e.g. 0/8, numbered from 0), auto, or auto/N", "\(bad)")
    }
  }

  @Test func slurmArraysWithStepsAndCounts() throws {
    // sbatch --array=0-7
    let plain = try part("auto", ["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "8", "SLURM_ARRAY_TASK_MIN": "0",
      "SLURM_ARRAY_TASK_MAX": "7"])
    #expect(plain.index == 5 && plain.count == 8 && plain.source == "--part auto (Slurm: SLURM_ARRAY_TASK_ID)")
    // --array=0-31:2 gives ids 0, 2, ..., 30: 16 parts.
    let stepped = try part("auto", ["SLURM_ARRAY_TASK_ID": "6", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "30",
      "SLURM_ARRAY_TASK_STEP": "2", "SLURM_ARRAY_TASK_COUNT": "16"])
    #expect(stepped.index == 3 && stepped.count == 16)
    // --array=1-4 (numbered from 1): part 0 is task 1.
    #expect(try part("auto", ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "4"]).index == 0)
    // Only the id and the count.
    #expect(try part("auto", ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4"]) == ConvertPart(index: 2, count: 4))
    #expect(message("auto/5", ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4"])
      == "--part auto (Slurm: SLURM_ARRAY_TASK_ID): the array has 4 tasks but --part auto/5 says 5 parts")
    #expect(message("auto", ["SLURM_ARRAY_TASK_ID": "x"]) == "--part auto: SLURM_ARRAY_TASK_ID='x' is not a number")
  }

  @Test func otherEngines() throws {
    #expect(try part("auto/6", ["JOB_COMPLETION_INDEX": "5"]) == ConvertPart(index: 5, count: 6))
    #expect(message("auto", ["JOB_COMPLETION_INDEX": "5"])
      == "--part auto (Kubernetes Indexed Job: JOB_COMPLETION_INDEX): Kubernetes Indexed Job does not tell how many tasks the array has; use --part auto/N")
    #expect(try part("auto", ["AWS_BATCH_JOB_ARRAY_INDEX": "0", "AWS_BATCH_JOB_ARRAY_SIZE": "10"]) == ConvertPart(index: 0, count: 10))
    #expect(try part("auto", ["BATCH_TASK_INDEX": "3", "BATCH_TASK_COUNT": "4"]) == ConvertPart(index: 3, count: 4))
    // LSF and Grid Engine number tasks from 1.
    #expect(try part("auto", ["LSB_JOBINDEX": "1", "LSB_JOBINDEX_END": "4"]) == ConvertPart(index: 0, count: 4))
    #expect(try part("auto/4", ["LSB_JOBINDEX": "4"]).index == 3)
    #expect(try part("auto", ["SGE_TASK_ID": "7", "SGE_TASK_FIRST": "1", "SGE_TASK_LAST": "9", "SGE_TASK_STEPSIZE": "2"])
      == ConvertPart(index: 3, count: 5))
    #expect(message("auto", ["SGE_TASK_ID": "4", "SGE_TASK_FIRST": "1", "SGE_TASK_LAST": "9", "SGE_TASK_STEPSIZE": "2"])
      == "--part auto: SGE_TASK_ID=4 is not one of the array's ids (from 1 by 2)")
    #expect(message("auto", ["AWS_BATCH_JOB_ARRAY_INDEX": "10", "AWS_BATCH_JOB_ARRAY_SIZE": "10"])
      == "--part auto (AWS Batch: AWS_BATCH_JOB_ARRAY_INDEX): part 10 does not exist; parts are numbered 0 to 9")
  }

  @Test func noEngineIsAClearError() {
    #expect(message("auto", ["PATH": "/usr/bin"]) == "--part auto: no array-task variable is set (looked for "
      + "SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX, BATCH_TASK_INDEX, LSB_JOBINDEX, SGE_TASK_ID); "
      + "run inside an array job, or give --part I/N")
  }
}
