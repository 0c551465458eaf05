#!/usr/bin/python3
"""Golden test of health.risk_model at 1-4 ranks against R glm(family = binomial) and
statsmodels GLM(Binomial): estimates and standard errors to 1e-6 relative, deviances and
AIC, iteration count; fixtures in both HDF5 layouts with mixed widths, NaN rows (dropped, as
R's na.omit), an empty shard; chosen outcome and covariates; bad input; and, on the data
generator's checkups, recovery of the generator's true coefficients.

Run by CTest (job.health.risk_model) with PEARL_BIN, MPIEXEC and MPIEXEC_FLAGS in the
environment; alone: PYTHONPATH=tests/support PEARL_BIN=build/bin/pearl /usr/bin/python3 THIS_FILE."""
import glob
import io
import os
import subprocess
import tempfile
import unittest
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm

from pearl_testing import RANKS, pearl, read_output, write_columnar, write_compound

warnings.simplefilter("ignore")
JOB = "health.risk_model"
COVARIATES = ["age_years", "bmi", "systolic_bp", "smoker"]
# docs/data-generator.md: logit P(diabetes) = -9.0 + 0.045 age + 0.12 bmi + 0.015 sbp + 0.35 smoker
TRUTH = {"(Intercept)": -9.0, "age_years": 0.045, "bmi": 0.12, "systolic_bp": 0.015, "smoker": 0.35}


def r_glm(df, outcome, covariates):
    """R glm(binomial) with na.omit: coefficient table and fit summary."""
    buf = io.StringIO()
    df[[outcome] + covariates].to_csv(buf, index=False, na_rep="NA")
    script = (
        "d <- read.csv(file('stdin'));"
        f"m <- glm({outcome} ~ {' + '.join(covariates) or '1'}, family = binomial, data = d,"
        " control = glm.control(epsilon = 1e-8, maxit = 25));"
        "s <- summary(m)$coefficients; options(digits = 17);"
        "write.csv(data.frame(term = rownames(s), estimate = s[, 1], se = s[, 2], z = s[, 3], p = s[, 4]),"
        " stdout(), row.names = FALSE);"
        "cat('#', nobs(m), m$iter, m$deviance, m$null.deviance, m$aic, as.integer(m$converged), '\\n');")
    r = subprocess.run(["Rscript", "-e", script], input=buf.getvalue(), capture_output=True, text=True, check=True)
    lines = r.stdout.splitlines()
    coef = pd.read_csv(io.StringIO("\n".join(l for l in lines if not l.startswith("#"))))
    n, it, dev, null, aic, conv = next(l for l in lines if l.startswith("#")).split()[1:]
    return coef, {"n": int(n), "iterations": int(it), "deviance": float(dev), "null_deviance": float(null),
                  "aic": float(aic), "converged": int(conv)}


def statsmodels_fit(df, outcome, covariates):
    """statsmodels GLM(Binomial) on the complete rows of df (also bench/domains' reference)."""
    cc = df[[outcome] + covariates].dropna()
    return sm.GLM(cc[outcome].astype(float), sm.add_constant(cc[covariates].astype(float), has_constant="add"),
                  family=sm.families.Binomial()).fit(tol=1e-12)


def assert_matches_statsmodels(sm_fit, estimate, se):
    """Estimates and standard errors (R's, or the job's) against statsmodels' fit."""
    np.testing.assert_allclose(sm_fit.params.to_numpy(), estimate, rtol=1e-6)
    # statsmodels takes the weights at the final estimate, R (and the job) those of the last
    # iteration's least squares: the standard errors differ in the 6th digit.
    np.testing.assert_allclose(sm_fit.bse.to_numpy(), se, rtol=1e-4)


def simulate(rng, n):
    age = rng.integers(20, 91, n)
    male = rng.random(n) < 0.5
    bmi = np.round(np.clip(rng.normal(23.5 + 0.02 * (age - 40) + np.where(male, 0.4, -0.3), 3.3), 15, 45), 1)
    sbp = np.round(np.clip(rng.normal(110 + 0.5 * (age - 20) + 0.8 * (bmi - 23), 12), 85, 220))
    smoker = (rng.random(n) < np.where(male, 0.5, 0.03)).astype(np.uint8)
    eta = -9.0 + 0.045 * age + 0.12 * bmi + 0.015 * sbp + 0.35 * smoker
    diabetes = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(np.uint8)
    return pd.DataFrame({"person_id": np.arange(n, dtype=np.uint64), "sex": np.where(male, 1, 2).astype(np.uint8),
                         "age_years": age.astype(np.uint8), "bmi": bmi.astype(np.float32),
                         "systolic_bp": sbp.astype(np.float32), "smoker": smoker, "diabetes": diabetes})


class RiskModel(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        rng = np.random.default_rng(11)
        parts = [simulate(rng, n) for n in (7000, 0, 5000, 9000, 3000)]
        # A few rows with a missing bmi (float NaN): R's na.omit drops them, so must the job.
        parts[0].loc[[5, 77, 4000], "bmi"] = np.nan
        parts[3].loc[[10, 11], "bmi"] = np.nan
        write_columnar(f"{d}/ck-0.h5", parts[0], "checkups")
        write_columnar(f"{d}/ck-1.h5", parts[1], "checkups")  # empty shard
        write_columnar(f"{d}/ck-2.h5", parts[2], "checkups", widths={"age_years": np.int16, "smoker": np.int8,
                                                                      "diabetes": np.int64, "bmi": np.float64})
        write_compound(f"{d}/ck-3.h5", parts[3], "checkups", widths={"systolic_bp": np.float64, "diabetes": np.int32})
        parts[4].to_hdf(f"{d}/ck-4.h5", key="checkups", format="table", data_columns=True, index=False)
        cls.data = pd.concat(parts, ignore_index=True).astype({"bmi": np.float64, "systolic_bp": np.float64})
        cls.glob = f"{d}/ck-*.h5"

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_job(self, ranks, *extra, source=None):
        out = os.path.join(self.tmp.name, f"rm-{ranks}-{abs(hash(extra))}.h5")
        if os.path.exists(out):
            os.remove(out)
        r = pearl("run", JOB, "--input", f"checkups={source or self.glob}", "--output", out, *extra, ranks=ranks)
        self.assertEqual(r.returncode, 0, r.stderr)
        coef, _ = read_output(out, "coefficients")
        fit, _ = read_output(out, "fit")
        return coef, fit

    def check_against_r(self, outcome, covariates, ranks, extra=()):
        want, wfit = r_glm(self.data, outcome, covariates)
        # statsmodels on the same complete rows, as a second independent fit
        assert_matches_statsmodels(statsmodels_fit(self.data, outcome, covariates), want["estimate"], want["se"])
        for n in ranks:
            with self.subTest(covariates=covariates, ranks=n):
                coef, fit = self.run_job(n, *extra)
                self.assertEqual(coef["term"].tolist(), ["(Intercept)"] + covariates)
                np.testing.assert_allclose(coef["estimate"], want["estimate"], rtol=1e-6)
                np.testing.assert_allclose(coef["std_error"], want["se"], rtol=1e-6)
                np.testing.assert_allclose(coef["z_value"], want["z"], rtol=1e-6)
                np.testing.assert_allclose(coef["p_value"], want["p"], rtol=1e-5, atol=1e-300)
                self.assertEqual(len(fit), 1)
                self.assertEqual(int(fit["n"][0]), wfit["n"])
                self.assertEqual(int(fit["iterations"][0]), wfit["iterations"])
                self.assertEqual(int(fit["converged"][0]), wfit["converged"])
                for c in ("deviance", "null_deviance", "aic"):
                    np.testing.assert_allclose(fit[c][0], wfit[c], rtol=1e-9, err_msg=c)

    def test_default_model_matches_r_at_1_to_4_ranks(self):
        self.check_against_r("diabetes", COVARIATES, RANKS)

    def test_chosen_outcome_and_covariates(self):
        # smoker as the outcome of age and bmi: another 0/1 column, other covariates
        self.check_against_r("smoker", ["bmi", "age_years"], (1, 3),
                             extra=("--outcome", "smoker", "--covariates", "bmi,age_years"))

    def test_outcome_not_zero_one(self):
        bad = self.data.head(500).copy()
        bad.loc[100, "diabetes"] = 2
        path = os.path.join(self.tmp.name, "bad-outcome.h5")
        write_columnar(path, bad, "checkups")
        out = os.path.join(self.tmp.name, "bad.h5")
        for ranks in (1, 2):
            r = pearl("run", JOB, "--input", f"checkups={path}", "--output", out, ranks=ranks)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("'diabetes'", r.stderr)
            self.assertFalse(os.path.exists(out))

    def test_bad_options(self):
        out = os.path.join(self.tmp.name, "bad-opt.h5")
        for extra, word in ((["--covariates", "age_years,weight"], "'weight'"), (["--outcome", "glucose"], "'glucose'"),
                            (["--covariates", "bmi,bmi"], "'bmi'"), (["--max-iter", "0"], "--max-iter"),
                            (["--covariates", "diabetes"], "'diabetes'")):
            with self.subTest(extra=extra):
                r = pearl("run", JOB, "--input", f"checkups={self.glob}", "--output", out, *extra)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(word, r.stderr)
                self.assertFalse(os.path.exists(out))

    def test_recovers_generator_coefficients(self):
        d = os.path.join(self.tmp.name, "gen")
        r = pearl("run", "data.generate", "--domain", "health", "--rows", "400000", "--shards", "6", "--seed", "3",
                  "--out-dir", d, ranks=2, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        coef, fit = self.run_job(3, source=f"{d}/checkups-*.h5")
        self.assertEqual(int(fit["n"][0]), 200000)
        self.assertEqual(int(fit["converged"][0]), 1)
        for term, est, se in zip(coef["term"], coef["estimate"], coef["std_error"]):
            with self.subTest(term=term):
                self.assertLess(abs(est - TRUTH[term]), 1.96 * se, f"{term}: {est} ± {1.96 * se} misses {TRUTH[term]}")


if __name__ == "__main__":
    unittest.main()
